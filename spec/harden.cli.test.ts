/**
 * The hardening commands: `blinkd check` / `blinkd inspect --check` (human and JSON, exit 1 on
 * a broken invariant), and `blinkd procfs export DIR`, which never writes outside DIR: not through a hostile guest's names,
 * not through a DIR that is a symlink or not empty, not through node paths that climb out or
 * go through a link (the writer checks what the daemon sends, too).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, type Daemon } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";
import { ClientConnection } from "../src/client/connection.js";
import { writeSnapshot, ExportError } from "../src/cli/procfs.js";
import type { SnapshotNode } from "../src/client/control.js";

const { hostpid, daemon } = hardenSetup("cli");
let d: Daemon;
let sandbox: string;
beforeAll(async () => {
  d = await daemon();
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-export-"));
});
afterAll(() => {
  fs.rmSync(sandbox, { recursive: true, force: true });
});

/** Every path under `root`, without following links. */
function walk(root: string): string[] {
  const out: string[] = [];
  const go = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      out.push(path.relative(sandbox, q));
      if (e.isDirectory()) go(q);
    }
  };
  go(root);
  return out.sort();
}

const exportTo = (dir: string) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, "procfs", "export", "--socket", d.socket, dir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.once("exit", (code) => resolve({ code, stderr }));
  });

const cli = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.once("exit", (code) => resolve({ code, stdout }));
  });

describe("blinkd check", () => {
  it("prints the checker's verdict and figures, or JSON; inspect --check is the same", async () => {
    const g = await ClientConnection.open(d.socket);
    await g.hello("guest", "checked");
    await g.call("register", { hostpid: hostpid(), exe: "/g", argv: ["g"], delivery: 0 });
    await g.call("eventfd2", { initval: 0, flags: 0 });
    const human = await cli(["check", "--socket", d.socket]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ok: every invariant holds\nprocesses 1 \(zombies 0, unclaimed 0\), threads 1, reservations 0\nconnections 2 \(0 more closing\), parked calls 0, buffered bytes 0\ndaemon descriptors 1, open files 1\nheap [\d.]+ MiB after GC \([\d.]+ MiB at start\)\n$/);
    const json = await cli(["inspect", "--check", "--json", "--socket", d.socket]);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ ok: true, problems: [], counts: { processes: 1, files: 1, descriptors: 1, parked: 0 } });
    // g stays: it is PID 1, and the namespace ends with it.
  });
});

describe("procfs export stays inside its target", () => {
  it("a guest with hostile names: everything written is inside DIR; DIR as a symlink or a non-empty directory is refused", async () => {
    const g = await ClientConnection.open(d.socket);
    await g.hello("guest", "hostile");
    await g.call("register", { hostpid: hostpid(), exe: "../../../../outside/evil", argv: ["../../x", "/etc/passwd", "a\nb"], delivery: 0 });
    const outside = path.join(sandbox, "outside");
    fs.mkdirSync(outside);
    const target = path.join(sandbox, "snap");
    const r = await exportTo(target);
    expect(r.code, r.stderr).toBe(0);
    expect(walk(sandbox).filter((p) => !p.startsWith("snap"))).toEqual(["outside"]);
    expect(fs.readdirSync(outside)).toEqual([]);
    // Every entry's real parent directory is inside DIR (links are links, never written through).
    for (const p of walk(target)) expect(fs.realpathSync(path.dirname(path.join(sandbox, p))).startsWith(fs.realpathSync(target))).toBe(true);

    const link = path.join(sandbox, "link");
    fs.symlinkSync(outside, link);
    expect((await exportTo(link)).code).not.toBe(0);
    fs.writeFileSync(path.join(outside, "keep"), "x");
    expect((await exportTo(outside)).code).not.toBe(0);
    expect(fs.readdirSync(outside)).toEqual(["keep"]);
    g.close();
  });

  it("node paths that climb out, are absolute, or go through a link are refused before anything is written there", () => {
    const bad: SnapshotNode[][] = [
      [["../escape", 0, Buffer.from("x")]],
      [["/abs", 0, Buffer.from("x")]],
      [["1", 2, null], ["1/../../escape", 0, Buffer.from("x")]],
      [["ln", 1, path.join(sandbox, "outside")], ["ln/escape", 0, Buffer.from("x")]],
      [["1", 2, null], ["1", 0, Buffer.from("again")]],
    ];
    for (const nodes of bad) {
      const dir = fs.mkdtempSync(path.join(sandbox, "w-"));
      expect(() => writeSnapshot(dir, nodes, [])).toThrow(ExportError);
    }
    expect(fs.existsSync(path.join(sandbox, "escape"))).toBe(false);
    expect(fs.existsSync(path.join(sandbox, "outside", "escape"))).toBe(false);
    expect(fs.existsSync(path.join(os.tmpdir(), "escape"))).toBe(false);
  });
});
