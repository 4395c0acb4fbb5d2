/**
 * The daemon's own life and its command line, tried as a new user and as a hostile one
 * would (issue 15): a second daemon never takes a live one's socket, however the first
 * answers; what a SIGKILLed daemon leaves is cleaned by the next; inspection never hangs on
 * a stopped daemon; another user is told "permission denied"; numbers and operands are
 * checked strictly, with exit status 2 for every usage error; a `serve` whose init died
 * says the namespace is over and starts a new one for the next process that registers.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";
import { ClientConnection } from "../src/client/connection.js";

const { hostpid, daemon } = hardenSetup("daemon");
const root = process.getuid?.() === 0;

/** Runs the blinkd command to its end (bounded): exit code, output, and how long it took. */
function cli(args: string[], opts: { timeoutMs?: number; asUid?: number } = {}): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t = Date.now();
  const cmd = opts.asUid === undefined ? [process.execPath, BIN, ...args] : ["setpriv", `--reuid=${opts.asUid}`, `--regid=${opts.asUid}`, "--clear-groups", process.execPath, BIN, ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

/** Opens non-blocking connections until the listener's backlog is full (connect fails with EAGAIN), at most `max`. */
async function fillBacklog(socket: string, max: number): Promise<{ socks: net.Socket[]; eagain: number }> {
  const socks: net.Socket[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: max }, () => {
      const s = net.connect(socket);
      socks.push(s);
      return new Promise<string>((resolve) => {
        s.once("connect", () => resolve("connected"));
        s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        setTimeout(() => resolve("pending"), 3000).unref();
      });
    }),
  );
  return { socks, eagain: outcomes.filter((o) => o === "EAGAIN").length };
}

const exitOf = (p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve({ code: p.exitCode, signal: p.signalCode }) : p.once("exit", (code, signal) => resolve({ code, signal }))));

describe("the fixed name belongs to a live daemon until it is provably gone", () => {
  it("a stopped daemon with a full backlog keeps its socket: a second serve refuses, a run leaves the fixed name alone, and the first daemon's guests are unaffected", async () => {
    const d = await daemon();
    const g = await ClientConnection.open(d.socket);
    await g.hello("guest", "first daemon's guest");
    const pid = (await g.call("register", { hostpid: hostpid(), exe: "/g", argv: ["g"], delivery: 0 })).result;
    const ino = fs.lstatSync(d.socket).ino;
    d.proc.kill("SIGSTOP");
    let socks: net.Socket[] = [];
    try {
      const filled = await fillBacklog(d.socket, 1200);
      socks = filled.socks;
      expect(filled.eagain, "the stopped daemon's backlog never filled").toBeGreaterThan(0);
      const second = cli(["serve", "--prefix", d.prefix], { timeoutMs: 20_000 });
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toContain(`a daemon is already serving at ${d.socket}`);
      const run = cli(["run", "--prefix", d.prefix, "--", "true"], { timeoutMs: 30_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(fs.lstatSync(d.socket).ino).toBe(ino);
    } finally {
      for (const s of socks) s.destroy();
      d.proc.kill("SIGCONT");
    }
    expect((await g.call("getpid", {})).result).toBe(pid);
    const ps = cli(["ps", "--prefix", d.prefix, "--json"]);
    expect(ps.code, ps.stderr).toBe(0);
    expect((JSON.parse(ps.stdout) as { pid: number }[]).map((p) => p.pid)).toEqual([pid]);
    g.close();
  }, 90_000);

  it("a SIGKILLed run's run-PID.sock is removed by the next daemon on the prefix (connecting to it is refused); a live run's is kept", async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-stale-"));
    const runtime = path.join(prefix, ".blinkd");
    const start = (): ChildProcess => spawn(process.execPath, [BIN, "run", "--prefix", prefix, "--", "sleep", "60"], { stdio: "ignore" });
    const sockOf = (p: ChildProcess): string => path.join(runtime, `run-${p.pid}.sock`);
    const waitFor = async (f: string): Promise<void> => {
      for (let i = 0; i < 300 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 50));
      expect(fs.existsSync(f), `${f} never appeared`).toBe(true);
    };
    const dead = start();
    const live = start();
    try {
      await waitFor(sockOf(dead));
      await waitFor(sockOf(live));
      dead.kill("SIGKILL");
      await exitOf(dead);
      expect(fs.existsSync(sockOf(dead))).toBe(true);
      const next = cli(["run", "--prefix", prefix, "--verbose", "--", "true"]);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain(`removed the sockets of 1 daemon that died without cleaning up: run-${dead.pid}`);
      expect(fs.existsSync(sockOf(dead))).toBe(false);
      expect(fs.existsSync(sockOf(live))).toBe(true);
    } finally {
      spawnSync("pkill", ["-KILL", "-P", String(dead.pid)]);
      live.kill("SIGTERM");
      await exitOf(live);
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("inspection never hangs, and says why it failed", () => {
  it("ps, check and inspect against a stopped daemon end within --timeout-ms with a clear message and exit 1", async () => {
    const d = await daemon();
    d.proc.kill("SIGSTOP");
    try {
      for (const args of [["ps"], ["check"], ["inspect", "--all"], ["pstree"]]) {
        const r = cli([...args, "--socket", d.socket, "--timeout-ms", "500"], { timeoutMs: 15_000 });
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^blinkd ${args[0]}: the daemon at .* did not answer the handshake within 500 ms`));
        expect(r.ms).toBeLessThan(8000);
      }
    } finally {
      d.proc.kill("SIGCONT");
    }
  }, 60_000);

  it.skipIf(!root)("another user's ps on root's prefix is told 'permission denied', not that the socket is stale", async () => {
    const d = await daemon();
    const r = cli(["ps", "--prefix", d.prefix], { asUid: 1001 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^blinkd ps: permission denied: /);
    expect(r.stderr).not.toMatch(/stale/);
    const s = cli(["ps", "--socket", d.socket], { asUid: 1001 });
    expect(s.stderr).toMatch(/^blinkd ps: permission denied: /);
  }, 30_000);
});

describe("the command line is checked strictly; every usage error exits 2", () => {
  it("numbers: only plain decimal digits; bad numbers exit 2 like any usage error, before a daemon starts", () => {
    for (const cmd of [...["1e3", "0x10", " 12 ", "12.0", "-3"].map((v) => ["serve", `--pid-max=${v}`]), ["run", "--pid-max=1e3", "--", "true"], ["serve", "--max-connections", "4e3"]]) {
      const r = cli(cmd);
      expect(r.code, `${cmd.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`takes a whole number from`);
    }
    expect(cli(["inspect", "--socket", "/nonexistent", "1e0"]).code).toBe(2);
    expect(cli(["pstree", "--socket", "/nonexistent", "0x1"]).code).toBe(2);
    expect(cli(["events", "--socket", "/nonexistent", "--pid", "1e0"]).code).toBe(2);
  }, 120_000);

  it("an extra operand is refused, not ignored; 'no command given' is said once", () => {
    for (const cmd of [["serve", "extra"], ["ps", "extra"], ["check", "extra"], ["inspect", "1", "2"], ["pstree", "1", "2"], ["events", "extra"]]) {
      const r = cli(cmd);
      expect(r.code, `${cmd.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/unexpected argument/);
    }
    const r = cli(["run"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("blinkd run: no command given");
  }, 120_000);
});

describe("a serve daemon's namespace ends with its init", () => {
  it("init dies: the daemon says the namespace is over; it is never entered again: the next process to register is PID 1 of a new namespace", async () => {
    const d = await daemon();
    const lines: string[] = [];
    d.proc.stderr!.on("data", (b: Buffer) => lines.push(...b.toString().split("\n")));
    const init = await ClientConnection.open(d.socket);
    await init.hello("guest", "init");
    expect((await init.call("register", { hostpid: hostpid(), exe: "/init", argv: ["init"], delivery: 0 })).result).toBe(1);
    const child = (await init.call("fork", {})).result;
    expect(child).toBe(2);
    await init.call("exit_group", { status: 3 });
    for (let i = 0; i < 100 && !lines.join("\n").includes("namespace is over"); i++) await new Promise((r) => setTimeout(r, 50));
    expect(lines.join("\n")).toContain("blinkd: the namespace is over: its init (PID 1) ended, exited(3), and every process with it; the next process to register starts a new namespace as its PID 1");
    const next = await ClientConnection.open(d.socket);
    await next.hello("guest", "new init");
    expect((await next.call("register", { hostpid: hostpid(), exe: "/init2", argv: ["init2"], delivery: 0 })).result).toBe(1);
    const ps = JSON.parse(cli(["ps", "--socket", d.socket, "--json"]).stdout) as { pid: number; argv: string[] }[];
    expect(ps.map((p) => [p.pid, p.argv])).toEqual([[1, ["init2"]]]);
    init.close();
    next.close();
  }, 30_000);
});
