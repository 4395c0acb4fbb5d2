/**
 * The process lifecycle through a real daemon with real guest processes (agents): fork and
 * claim, abort, expiry, threads, execve, exec into a native program, report_status, exit
 * and death by kill -9 of the host process.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, cli, serve } from "./helpers/daemon.js";
import { agent, type Agent } from "./helpers/agent.js";
import { namespace } from "./helpers/namespace.js";
import { Raw, StandIn } from "./helpers/raw.js";

const WNOHANG = 1;
const ns = namespace();
const { track } = ns;

interface Ps {
  pid: number;
  ppid: number;
  state: string;
  threads: number[];
  comm: string;
  exe: string;
  argv: string[];
}
async function ps(socket = ns.daemon.socket): Promise<Ps[]> {
  const r = await cli(["ps", "--socket", socket, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Ps[];
}
const entry = async (pid: number) => (await ps()).find((p) => p.pid === pid);

beforeAll(() => {
  expect(ns.init.pid).toBe(1);
});

describe("fork, claim, abort", () => {
  it("fork reserves the pid and the child is the parent's at once; the child's own connection claims it; a token claims once", async () => {
    const r = await ns.init.ok("fork");
    const pid = r.result;
    const token = r.out!.token as string;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    // Not yet claimed, but already a child: WNOHANG finds it not ready rather than ECHILD.
    expect((await ns.init.ok("wait4", { pid, options: WNOHANG })).result).toBe(0);
    expect((await entry(pid))?.state).toBe("embryo");
    const child = await track(agent(ns.daemon.socket, token));
    expect(child.pid).toBe(pid);
    expect((await child.ok("getppid")).result).toBe(1);
    expect((await entry(pid))?.state).toBe("running");
    // The token is spent: a second claim, or an unknown token, is ENOENT.
    for (const t of [token, "f".repeat(32)]) {
      const raw = await Raw.open(ns.daemon.socket);
      await raw.hello();
      const c = await raw.call("claim", { token: t, hostpid: child.proc.pid! });
      expect(c.result).toBe(-2);
      expect(c.out[0]).toMatch(/no such reservation/);
      raw.destroy();
    }
    await child.exit(0);
    expect((await ns.init.ok("wait4", { pid, options: 0 })).out!.wstatus).toBe(0);
  });

  it("fork_abort undoes the reservation as if fork had never happened; only the parent's unclaimed child can be aborted", async () => {
    const r = await ns.init.ok("fork");
    const pid = r.result;
    expect((await ns.init.ok("fork_abort", { pid })).result).toBe(0);
    expect((await ns.init.call("wait4", { pid, options: WNOHANG })).code).toBe("ECHILD");
    expect(await entry(pid)).toBeUndefined();
    const again = await ns.init.call("fork_abort", { pid });
    expect(again.code).toBe("ESRCH");
    // The token died with it.
    const raw = await Raw.open(ns.daemon.socket);
    await raw.hello();
    expect((await raw.call("claim", { token: r.out!.token, hostpid: ns.init.proc.pid! })).result).toBe(-2);
    raw.destroy();
    // alloc_pid's cursor moved on: the next child gets the next number, not the aborted one.
    const child = await track(ns.init.fork());
    expect(child.pid).toBe(pid + 1);
    // A claimed child, or another process's child, cannot be aborted.
    expect((await ns.init.call("fork_abort", { pid: child.pid })).code).toBe("ESRCH");
    const gr = await child.ok("fork");
    expect((await ns.init.call("fork_abort", { pid: gr.result })).code).toBe("ESRCH");
    expect((await child.ok("fork_abort", { pid: gr.result })).result).toBe(0);
    await child.exit(0);
    await ns.init.ok("wait4", { pid: child.pid, options: 0 });
  });
});

describe("threads", () => {
  it("thread_create reserves a tid that a second connection claims; it shares the process; exit ends only that thread", async () => {
    const p = await track(ns.init.fork());
    const r = await p.ok("thread_create");
    const tid = r.result;
    expect(tid).toBeGreaterThan(p.pid);
    const t = await track(agent(ns.daemon.socket, r.out!.token as string));
    expect(t.tid).toBe(tid);
    expect((await t.ok("getpid")).result).toBe(p.pid);
    expect((await t.ok("gettid")).result).toBe(tid);
    expect((await t.ok("getppid")).result).toBe(1);
    expect((await entry(p.pid))?.threads).toEqual([p.pid, tid]);
    // exit(2) ends the calling thread only.
    expect((await t.ok("exit", { status: 0 })).result).toBe(0);
    const after = await t.call("getpid");
    expect(after.code).toBe("ESRCH");
    expect(after.detail).toMatch(new RegExp(`thread ${tid} has ended`));
    expect((await entry(p.pid))?.threads).toEqual([p.pid]);
    expect((await p.ok("getpid")).result).toBe(p.pid);
    expect((await ns.init.ok("wait4", { pid: p.pid, options: WNOHANG })).result).toBe(0);
    // thread_abort releases an unclaimed reservation; a claimed or unknown tid is ESRCH.
    const r2 = await p.ok("thread_create");
    expect((await p.ok("thread_abort", { tid: r2.result })).result).toBe(0);
    expect((await p.call("thread_abort", { tid: r2.result })).code).toBe("ESRCH");
    await p.exit(0);
    await ns.init.ok("wait4", { pid: p.pid, options: 0 });
  });

  it("exit_group ends every thread: the other thread's parked call is interrupted and its later calls fail", async () => {
    const p = await track(ns.init.fork());
    const c = await track(p.fork()); // so that a wait4 in the process parks
    const r = await p.ok("thread_create");
    const t = await track(agent(ns.daemon.socket, r.out!.token as string));
    const parked = t.call("wait4", { pid: -1, options: 0 });
    // The parked wait4 is registered before exit_group arrives: a later call on t returns first.
    expect((await t.ok("gettid")).result).toBe(r.result);
    await p.exit(5);
    const w = await parked;
    expect(w.code).toBe("EINTR");
    expect((await t.call("getpid")).code).toBe("ESRCH");
    expect((await t.call("fork")).code).toBe("ESRCH");
    const st = await ns.init.ok("wait4", { pid: p.pid, options: 0 });
    expect(st.out!.wstatus).toBe(5 << 8);
    // p's child was reparented to ns.init.
    expect((await c.ok("getppid")).result).toBe(1);
    await c.exit(0);
    await ns.init.ok("wait4", { pid: c.pid, options: 0 });
  });

  it("as on real Linux: the leader's exit(3) leaves the process running; the last thread's exit(5) is its status", async () => {
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-le-")), "leader_exit");
    execFileSync("cc", ["-O1", "-pthread", "-o", bin, path.join(ROOT, "spec/linux/leader_exit.c")]);
    expect(execFileSync(bin, { encoding: "utf8" }).trim().split("\n")).toEqual([
      "leader exited(3), a thread lives: waitpid WNOHANG -> 0",
      "last thread exited(5): waitpid -> the child exited(5)",
    ]);
    const p = await track(ns.init.fork());
    const r = await p.ok("thread_create");
    const t = await track(agent(ns.daemon.socket, r.out!.token as string));
    await p.ok("exit", { status: 3 });
    expect((await ns.init.ok("wait4", { pid: p.pid, options: WNOHANG })).result).toBe(0);
    await t.ok("exit", { status: 5 });
    const st = await ns.init.ok("wait4", { pid: p.pid, options: 0 });
    expect(st.out!.wstatus).toBe(5 << 8);
  });

  it("execve from a non-leader thread: the other threads end and the caller takes over the leader's tid (de_thread)", async () => {
    const p = await track(ns.init.fork());
    const r = await p.ok("thread_create");
    const t = await track(agent(ns.daemon.socket, r.out!.token as string));
    await t.ok("execve", { exe: "/bin/true", argv: ["true"] });
    expect((await t.ok("gettid")).result).toBe(p.pid);
    expect((await t.ok("getpid")).result).toBe(p.pid);
    expect((await p.call("getpid")).code).toBe("ESRCH");
    const e = await entry(p.pid);
    expect(e?.threads).toEqual([p.pid]);
    expect(e?.comm).toBe("true");
    await t.ok("exit_group", { status: 0 });
    await ns.init.ok("wait4", { pid: p.pid, options: 0 });
  });
});

describe("signal masks across threads and exec", () => {
  it("a new thread starts with its creator's mask, and a non-leader's execve keeps the caller's mask, not the leader's, as a C program shows on Linux", async () => {
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-tm-")), "thread_mask");
    execFileSync("cc", ["-O1", "-pthread", "-o", bin, path.join(ROOT, "spec/linux/thread_mask.c")]);
    const linux = execFileSync(bin, { encoding: "utf8" }).trim().split("\n");

    const SIGHUP = 1, SIGUSR1 = 10, SIGUSR2 = 12, SIG_BLOCK = 0, SIG_SETMASK = 2;
    const bit = (s: number): number => 2 ** (s - 1);
    const show = async (what: string, a: Agent): Promise<string> => {
      const m = BigInt((await a.ok("rt_sigprocmask", { how: SIG_BLOCK, set: 0 })).out!.old as number);
      const has = (s: number): boolean => (m & BigInt(bit(s))) !== 0n;
      return `${what}:${has(SIGHUP) ? " HUP" : ""}${has(SIGUSR1) ? " USR1" : ""}${has(SIGUSR2) ? " USR2" : ""}`;
    };
    const p = await track(ns.init.fork());
    await p.ok("rt_sigprocmask", { how: SIG_SETMASK, set: bit(SIGUSR1) });
    const r = await p.ok("thread_create");
    const t = await track(agent(ns.daemon.socket, r.out!.token as string));
    const lines = [await show("new thread", t)];
    await t.ok("rt_sigprocmask", { how: SIG_BLOCK, set: bit(SIGUSR2) });
    await p.ok("rt_sigprocmask", { how: SIG_SETMASK, set: bit(SIGHUP) });
    lines.push(await show("leader", p));
    await t.ok("execve", { exe: bin, argv: [bin, "after"] });
    lines.push(await show("after the thread's execve", t));
    expect(lines).toEqual(linux);
    await t.ok("exit_group", { status: 0 });
    await ns.init.ok("wait4", { pid: p.pid, options: 0 });
  });
});

describe("exec", () => {
  it("execve keeps the pid and parent; exe, argv and comm (15 bytes of the basename) change, as ps --json shows", async () => {
    const c = await track(ns.init.fork());
    const before = await entry(c.pid);
    expect(before?.comm).toBe("node");
    await c.ok("execve", { exe: "/opt/tools/a-rather-long-program-name", argv: ["prog", "--flag"] });
    const e = await entry(c.pid);
    expect(e).toMatchObject({ pid: c.pid, ppid: 1, state: "running", comm: "a-rather-long-p", exe: "/opt/tools/a-rather-long-program-name", argv: ["prog", "--flag"] });
    expect((await c.ok("getpid")).result).toBe(c.pid);
    await c.exit(0);
    await ns.init.ok("wait4", { pid: c.pid, options: 0 });
  });

  it("exec_native: the connection's end is not a death; the pid stays until the parent reports the native program's status", async () => {
    const c = await track(ns.init.fork());
    await c.ok("exec_native", { exe: "/bin/sleep", argv: ["sleep", "5"] });
    expect((await c.call("getpid")).code).toBe("ESRCH");
    await c.kill("SIGKILL"); // EOF on its connection
    // Still there, native, not a zombie: wait4 finds it not ready.
    const e = await entry(c.pid);
    expect(e).toMatchObject({ state: "native", comm: "sleep", threads: [] });
    expect((await ns.init.ok("wait4", { pid: c.pid, options: WNOHANG })).result).toBe(0);
    // Only the parent may report.
    const other = await track(ns.init.fork());
    expect((await other.call("report_status", { pid: c.pid, wstatus: 0 })).code).toBe("ESRCH");
    await ns.init.ok("report_status", { pid: c.pid, wstatus: 4 << 8 });
    const w = await ns.init.ok("wait4", { pid: c.pid, options: 0 });
    expect(w.result).toBe(c.pid);
    expect(w.out!.wstatus).toBe(4 << 8);
    await other.exit(0);
    await ns.init.ok("wait4", { pid: other.pid, options: 0 });
  });
});

describe("exit and death", () => {
  it("kill -9 of a guest's host process: the parent's wait4 sees SIGKILL (9)", async () => {
    const c = await track(ns.init.fork());
    const w = ns.init.call("wait4", { pid: c.pid, options: 0 });
    await c.kill("SIGKILL");
    const r = await w;
    expect(r.result).toBe(c.pid);
    expect(r.out!.wstatus).toBe(9);
  });

  it("a reaper's report_status replaces an assumed SIGKILL, once; a real exit status is never replaced", async () => {
    const c = await track(ns.init.fork());
    await c.kill("SIGTERM");
    // Whether the EOF or the report arrives first, the status is the reported one.
    await ns.init.ok("report_status", { pid: c.pid, wstatus: 15 });
    await ns.init.ok("report_status", { pid: c.pid, wstatus: 6 });
    expect((await ns.init.ok("wait4", { pid: c.pid, options: 0 })).out!.wstatus).toBe(15);
    expect((await ns.init.call("report_status", { pid: c.pid, wstatus: 15 })).code).toBe("ESRCH");
    const c2 = await track(ns.init.fork());
    await c2.exit(3);
    await ns.init.ok("report_status", { pid: c2.pid, wstatus: 9 });
    expect((await ns.init.ok("wait4", { pid: c2.pid, options: 0 })).out!.wstatus).toBe(3 << 8);
  });

  it("exit_group's status reaches the parent, and a closed connection after exit is no second death", async () => {
    const c = await track(ns.init.fork());
    await c.exit(200);
    expect((await ns.init.ok("wait4", { pid: c.pid, options: 0 })).out!.wstatus).toBe(200 << 8);
    expect((await ns.init.call("wait4", { pid: -1, options: WNOHANG })).code).toBe("ECHILD");
  });
});

describe("reservations expire", () => {
  it("an unclaimed fork becomes a zombie killed by SIGKILL for the parent's wait4; an unclaimed thread vanishes", async () => {
    const e = await serve(["--reserve-timeout-ms", "150"]);
    const host = StandIn.start();
    const r = await Raw.open(e.socket);
    try {
      expect(await r.register(host.pid)).toBe(1);
      const th = await r.call("thread_create");
      const tid = Number(th.result);
      const { pid, token } = await r.fork();
      // Timers of one duration fire in order: once the fork expired, the thread did too.
      const w = await r.call("wait4", { pid, options: 0 });
      expect(w.result).toBe(pid);
      expect(w.out).toEqual([9]);
      for (const t of [token, th.out[0]]) {
        const late = await Raw.open(e.socket);
        await late.hello();
        expect((await late.call("claim", { token: t, hostpid: host.pid })).result).toBe(-2);
        late.destroy();
      }
      const list = JSON.parse((await cli(["ps", "--socket", e.socket, "--json"])).stdout) as Ps[];
      expect(list.find((p) => p.pid === 1)?.threads).toEqual([1]);
      expect(list.some((p) => p.threads.includes(tid))).toBe(false);
    } finally {
      r.destroy();
      host.kill();
      await e.stop();
    }
  });

  it("each unclaimed fork expires at its own deadline: one made later lives on after the first expired, then expires too", async () => {
    // One timer serves every reservation (reservations.ts): it must neither expire the later
    // fork with the first nor forget it. Timeout 1 s, the second fork 0.5 s after the first.
    const e = await serve(["--reserve-timeout-ms", "1000"]);
    const host = StandIn.start();
    const r = await Raw.open(e.socket);
    const bound = <T>(what: string, p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<never>((_, no) => setTimeout(() => no(new Error(`${what}: not within 10 s`)), 10_000))]);
    try {
      expect(await r.register(host.pid)).toBe(1);
      const a = await r.fork();
      await new Promise((res) => setTimeout(res, 500));
      // Taken before the call: the daemon sets the deadline after this instant.
      const bAt = Date.now();
      const b = await r.fork();
      const wa = await bound(`wait4 for the first unclaimed fork ${a.pid}`, r.call("wait4", { pid: a.pid, options: 0 }));
      expect([wa.result, wa.out]).toEqual([a.pid, [9]]);
      // The second one is still an unclaimed child, not yet a zombie (~0.5 s before its
      // deadline). Under a load that delayed the first expiry past the second's deadline the
      // two may go together, as they would with a timer each: then there is nothing to judge.
      const wnohang = await r.call("wait4", { pid: b.pid, options: WNOHANG });
      if (Date.now() - bAt < 900) expect(wnohang.result).toBe(0);
      if (wnohang.result === 0) {
        const wb = await bound(`wait4 for the second unclaimed fork ${b.pid}`, r.call("wait4", { pid: b.pid, options: 0 }));
        expect([wb.result, wb.out]).toEqual([b.pid, [9]]);
      } else expect([wnohang.result, wnohang.out]).toEqual([b.pid, [9]]);
      // Never before its own deadline (timers are late, never early; 10 ms for the clocks' rounding).
      expect(Date.now() - bAt).toBeGreaterThanOrEqual(990);
    } finally {
      r.destroy();
      host.kill();
      await e.stop();
    }
  });
});
