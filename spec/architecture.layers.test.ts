/**
 * The daemon's layers (ARCHITECTURE.md, "Layers"): every import of a file in src/protocol,
 * src/machine, src/actors, src/procfs, src/syscalls and src/server goes down, never up or
 * sideways into the guest side and the command line, and the pure layers use only the
 * packages they may. The files are read as text: an import added anywhere in them is seen.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SRC = path.resolve(import.meta.dirname, "../src");

/** Each daemon layer and the folders of src/ its files may import, itself included. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: ["protocol"],
  machine: ["machine", "protocol"],
  actors: ["actors", "machine", "protocol"],
  procfs: ["procfs", "actors", "machine", "protocol"],
  syscalls: ["syscalls", "procfs", "actors", "machine", "protocol"],
  server: ["server", "syscalls", "procfs", "actors", "machine", "protocol"],
};

/**
 * The entry points (ARCHITECTURE.md, above the layers) may import any layer but the rules:
 * they reach the namespace through src/server (server/outside.ts), never src/actors.
 */
const ENTRY_POINTS = ["cli", "script", "web"];
const ENTRY_MAY_NOT = ["actors"];

/** The packages (and node: modules) each layer may import; protocol (with its generators) and server may import any. */
const MAY_USE: Record<string, readonly string[]> = {
  // The statecharts are pure: no I/O, no clock but what their input gives.
  machine: ["xstate"],
  // Secrets (fork tokens, nonces) come from node:crypto; parking is an Effect.
  actors: ["xstate", "effect", "node:crypto"],
  // procfs renders a guest's host facts (stat, fdinfo) from the host's /proc.
  procfs: ["node:fs"],
  syscalls: ["effect"],
};

/** Every `import … from "x"`, `export … from "x"` and `import("x")` in a file, with its line. */
function importsOf(file: string): { spec: string; line: number }[] {
  const text = fs.readFileSync(file, "utf8");
  const out: { spec: string; line: number }[] = [];
  const re = /^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gms;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    out.push({ spec, line: text.slice(0, m.index + m[0].length).split("\n").length });
  }
  return out;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (/\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The package an import names: "effect/Effect" → "effect", "node:fs" → "node:fs". */
const packageOf = (spec: string): string => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);

function violations(src: string): string[] {
  const bad: string[] = [];
  for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
    const dir = path.join(src, layer);
    if (!fs.existsSync(dir)) continue;
    for (const file of filesUnder(dir)) {
      const rel = path.relative(src, file);
      for (const { spec, line } of importsOf(file)) {
        if (spec.startsWith(".")) {
          const target = path.relative(src, path.resolve(path.dirname(file), spec));
          const folder = target.split(path.sep)[0]!;
          if (target.startsWith("..") || !allowed.includes(folder)) bad.push(`src/${rel}:${line} imports ${spec} (src/${folder}), which ${layer} may not: it may import ${allowed.join(", ")}`);
        } else if (MAY_USE[layer] && !MAY_USE[layer]!.includes(packageOf(spec))) {
          bad.push(`src/${rel}:${line} uses the package ${spec}, which ${layer} may not: it may use ${MAY_USE[layer]!.join(", ") || "none"}`);
        }
      }
    }
  }
  for (const entry of ENTRY_POINTS) {
    const dir = path.join(src, entry);
    if (!fs.existsSync(dir)) continue;
    for (const file of filesUnder(dir)) {
      const rel = path.relative(src, file);
      for (const { spec, line } of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const folder = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
        if (ENTRY_MAY_NOT.includes(folder)) bad.push(`src/${rel}:${line} imports ${spec} (src/${folder}), which an entry point may not: it goes through src/server`);
      }
    }
  }
  return bad;
}

describe("the daemon's import layers (ARCHITECTURE.md)", () => {
  it("no import in protocol, machine, actors, procfs, syscalls or server runs against the layers, and no entry point (cli, script, web) imports src/actors", () => {
    expect(violations(SRC)).toEqual([]);
  });

  it("the check sees an import that does: machine importing src/server, machine using node:fs, an entry point importing src/actors", () => {
    // The check itself, on a tree laid out as src/ is: a machine file with two bad imports
    // (one of them over several lines) and a server file whose imports are all allowed.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-layers-"));
    try {
      fs.mkdirSync(path.join(tmp, "machine", "sub"), { recursive: true });
      fs.mkdirSync(path.join(tmp, "server"));
      fs.writeFileSync(path.join(tmp, "machine", "sub", "leak.ts"), 'import * as fs from "node:fs";\nimport {\n  x,\n} from "../../server/hostproc.js";\n');
      fs.writeFileSync(path.join(tmp, "server", "fine.ts"), 'import * as fs from "node:fs";\nimport { y } from "../machine/sub/leak.js";\n');
      // An entry point may import src/server and src/machine, not src/actors.
      fs.mkdirSync(path.join(tmp, "cli"));
      fs.writeFileSync(path.join(tmp, "cli", "run.ts"), 'import { core } from "../server/core.js";\nimport type { Kernel } from "../actors/kernel.js";\n');
      const found = violations(tmp);
      expect(found).toHaveLength(3);
      expect(found[0]).toMatch(/leak\.ts:1 uses the package node:fs/);
      expect(found[1]).toMatch(/leak\.ts:4 imports \.\.\/\.\.\/server\/hostproc\.js \(src\/server\), which machine may not/);
      expect(found[2]).toMatch(/cli\/run\.ts:2 imports \.\.\/actors\/kernel\.js \(src\/actors\), which an entry point may not/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
