/**
 * Runs scenario files (spec/scenarios/*.scenario) on both sides through the real CLI,
 * `blinkd script --compare --json` (with `--blink`, the daemon's side is the C agent in
 * blink), and gives each scenario's two traces.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, type TestContext } from "vitest";
import { NODE_BIN, ROOT } from "./daemon.js";
import { parseScenario, type Scenario } from "../../src/script/format.js";

export const SCENARIO_DIR = path.join(ROOT, "spec/scenarios");

export interface SideResult {
  file: string;
  title: string;
  side: "blinkd" | "blink" | "linux";
  lines?: string[];
  status?: number;
  skipped?: string;
  error?: string;
  deviation?: string;
}

export interface Compared {
  readonly file: string;
  readonly linux: SideResult;
  /** The daemon's side: blinkd's Node.js agents, or (--blink) the C agent in blink. */
  readonly ours: SideResult;
}

export function scenarioFiles(): string[] {
  return fs
    .readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith(".scenario"))
    .sort()
    .map((f) => path.join("spec/scenarios", f));
}

/** Runs `blinkd script --compare --json [--blink]` over the files; one result pair per file. */
export function compareScenarios(files: string[], opts: { blink?: boolean; timeoutMs?: number } = {}): Promise<Compared[]> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_BIN, "script", "--compare", "--json", ...(opts.blink ? ["--blink"] : []), ...files], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("exit", () => {
      clearTimeout(t);
      let results: SideResult[];
      try {
        results = JSON.parse(out) as SideResult[];
      } catch {
        return reject(new Error(`blinkd script printed no JSON:\n${out}\n${err}`));
      }
      const by = new Map<string, Partial<Compared>>();
      for (const r of results) by.set(r.file, { ...by.get(r.file), file: r.file, [r.side === "linux" ? "linux" : "ours"]: r });
      resolve([...by.values()] as Compared[]);
    });
  });
}

/**
 * One scenario's test, up to the comparison: the daemon's side (`label`) ran to its end,
 * Linux ran or says why not (a visible warning: the stored trace is used), and a `root:`
 * scenario without root is skipped and says so. Undefined when the test was skipped.
 */
export function bothSidesRan(ctx: TestContext, c: Compared | undefined, file: string, label: string): { sc: Scenario; linux: SideResult; ours: SideResult } | undefined {
  expect(c, `${file} produced no result`).toBeDefined();
  const { linux, ours } = c!;
  const sc = parseScenario(fs.readFileSync(path.join(ROOT, file), "utf8"), file);
  if (sc.root && ours.skipped) {
    console.warn(`SKIPPED ${file} (${label}) without root: ${sc.root}`);
    ctx.skip(`needs root: ${sc.root}`);
    return undefined;
  }
  expect(ours.error, `${label} side of ${file}`).toBeUndefined();
  expect(ours.skipped, `${label} side of ${file}`).toBeUndefined();
  if (linux.skipped) {
    console.warn(`SKIPPED the Linux side of ${file}: ${linux.skipped}; ${label} is compared with the stored trace`);
    ctx.annotate?.(`Linux side skipped (${linux.skipped}): compared with the stored trace`);
  } else expect(linux.error, `Linux side of ${file}`).toBeUndefined();
  return { sc, linux, ours };
}
