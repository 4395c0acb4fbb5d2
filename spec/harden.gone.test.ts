/**
 * No guest outlives its kernel (issue 15, spec/protocol.md §7.8): when the daemon dies
 * (SIGKILL of `blinkd run`) or shuts down (SIGTERM of `blinkd serve`), every guest process,
 * native (the preload) or Node.js (the TypeScript client), whether it waits in a daemon call
 * or on the host (sigsuspend, a host wait, a sleep), ends by SIGKILL within a bounded time,
 * each with one line on stderr that says why: as Linux kills every process of a PID
 * namespace whose init dies (zap_pid_ns_processes), and as Wine's clients exit with
 * wineserver. Before this rule, `sh -c 'sleep 20 & wait'` stayed in sigsuspend for ever.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, ROOT } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";

const { daemon } = hardenSetup("gone");
const PRELOAD = path.join(ROOT, "dist/c/libblinkd-preload.so");
const GONE = /the blinkd daemon is gone \((.*)\): its namespace is over, so this process is killed \(SIGKILL\)$/;

/** The namespace's processes as `blinkd ps --json` gives them (hostpid included). */
function ps(args: string[]): { pid: number; hostpid: number; comm: string }[] {
  const r = spawnSync(process.execPath, [BIN, "ps", "--json", ...args], { encoding: "utf8", timeout: 15_000 });
  if (r.status !== 0) throw new Error(`blinkd ps: ${r.stderr}`);
  return JSON.parse(r.stdout) as { pid: number; hostpid: number; comm: string }[];
}

/** A host process is gone, or a zombie (dead, not yet reaped by whoever adopted it). */
function dead(hostpid: number): boolean {
  try {
    const s = fs.readFileSync(`/proc/${hostpid}/stat`, "latin1");
    return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) === "Z";
  } catch {
    return true;
  }
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const collect = (p: ChildProcess): (() => string[]) => {
  let err = "";
  p.stderr!.on("data", (b: Buffer) => (err += b));
  return () => err.split("\n").filter(Boolean);
};

describe("when the daemon dies, its guests die with it", () => {
  it("SIGKILL of `blinkd run`: init (sh in a wait), a background sleep and `timeout`'s child all end by SIGKILL within 3 s, each with one line; nothing hangs, nothing reports 255 or 'Connection reset'", async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-gone-"));
    const run = spawn(process.execPath, [BIN, "run", "--prefix", prefix, "--", "sh", "-c", "sleep 20 & timeout 20 sleep 30; echo status $?; wait; echo waited $?"], { stdio: ["ignore", "pipe", "pipe"] });
    const stderr = collect(run);
    let out = "";
    run.stdout!.on("data", (b: Buffer) => (out += b));
    try {
      let procs: ReturnType<typeof ps> = [];
      await until("four guests", () => (procs = fs.existsSync(path.join(prefix, "blinkd.sock")) ? ps(["--prefix", prefix]) : []).length === 4, 15_000);
      run.kill("SIGKILL");
      const t = Date.now();
      await until("every guest's host process ends", () => procs.every((p) => dead(p.hostpid)), 3000);
      expect(Date.now() - t).toBeLessThan(3000);
      // Each wrote its line before it died (the pipe may deliver them a little later), but
      // timeout's child may die first of its PR_SET_PDEATHSIG (coreutils 9) when timeout does.
      // PID 1 is sh, 2 the background sleep, 3 timeout, 4 its sleep (fork order).
      const hostOf = (pid: number): number => procs.find((p) => p.pid === pid)!.hostpid;
      const must = procs.map((p) => p.hostpid);
      const said = (): number[] => stderr().flatMap((l) => (GONE.test(l) ? [Number(/host pid (\d+)/.exec(l)![1])] : []));
      await until("a line from each", () => must.every((h) => said().includes(h)), 3000).catch(() => {});
      const lines = stderr();
      expect(lines.filter((l) => !GONE.test(l)), lines.join("\n")).toEqual([]);
      expect(new Set(said()).size, lines.join("\n")).toBe(said().length);
      for (const h of [hostOf(1), hostOf(2), hostOf(3)]) expect(said(), lines.join("\n")).toContain(h);
      expect(said().length).toBeGreaterThanOrEqual(3);
      expect(out).toBe("");
    } finally {
      run.kill("SIGKILL");
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  }, 40_000);

  it("SIGTERM of `blinkd serve`: a native guest sleeping on the host and an idle Node.js guest end by SIGKILL, each saying the daemon shut down", async () => {
    const d = await daemon();
    const env = { ...process.env, BLINKD_SOCKET: d.socket, BLINK_PREFIX: d.prefix };
    const native = spawn("sleep", ["30"], { env: { ...env, LD_PRELOAD: PRELOAD }, stdio: ["ignore", "ignore", "pipe"] });
    const nativeErr = collect(native);
    const script = `import(${JSON.stringify(path.join(ROOT, "dist/src/client/guest.js"))}).then(async (m) => { await m.Guest.connect({ socket: ${JSON.stringify(d.socket)}, env: {} }); process.stdout.write("ready\\n"); setInterval(() => {}, 1000); });`;
    const node = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    const nodeErr = collect(node);
    const ended = (p: ChildProcess): Promise<NodeJS.Signals | number | null> => new Promise((r) => p.once("close", (code, sig) => r(sig ?? code)));
    const nativeEnd = ended(native);
    const nodeEnd = ended(node);
    try {
      await new Promise((r) => node.stdout!.once("data", r));
      await until("both guests registered", () => ps(["--socket", d.socket]).length === 2, 10_000);
      await d.stop("SIGTERM");
      const t = Date.now();
      expect(await Promise.race([nativeEnd, new Promise((r) => setTimeout(() => r("still running"), 3000))])).toBe("SIGKILL");
      expect(await Promise.race([nodeEnd, new Promise((r) => setTimeout(() => r("still running"), 3000))])).toBe("SIGKILL");
      expect(Date.now() - t).toBeLessThan(3000);
      for (const [who, lines] of [["blinkd preload", nativeErr()], ["blinkd guest", nodeErr()]] as const) {
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(GONE);
        expect(lines[0]!.startsWith(`${who} (host pid `)).toBe(true);
        expect(lines[0]).toContain("the daemon is shutting down");
      }
    } finally {
      native.kill("SIGKILL");
      node.kill("SIGKILL");
    }
  }, 40_000);
});
