/**
 * spec/signals.md rule by rule, end to end: a real daemon, one agent process per emulated
 * process (or a raw connection bound to a real host process for delivery 1). Each
 * namespace whose init must die or whose groups must be orphaned gets its own daemon.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, serve, type Served } from "./helpers/daemon.js";
import { agent, agentTracker, type Agent } from "./helpers/agent.js";
import { Raw } from "./helpers/raw.js";
import { EVENT, EV } from "../src/protocol/messages.js";
import { until as bounded } from "./helpers/bounded.js";

const SIGHUP = 1, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20;
const HANDLER = 2, SA_NOCLDSTOP = 1;
const SI_USER = 0, SI_KERNEL = 0x80, CLD_STOPPED = 5;
const WNOHANG = 1, WUNTRACED = 2, WCONTINUED = 8;
const bit = (s: number): bigint => 1n << BigInt(s - 1);
const uid = process.getuid!();

const daemons: Served[] = [];
const { track, killAll } = agentTracker();
const hosts: ChildProcess[] = [];
afterAll(async () => {
  killAll();
  for (const h of hosts.splice(0)) h.kill("SIGKILL");
  for (const d of daemons.splice(0)) await d.stop();
});
async function start(): Promise<{ d: Served; init: Agent }> {
  const d = await serve();
  daemons.push(d);
  const init = await track(agent(d.socket));
  return { d, init };
}
const fork = (a: Agent): Promise<Agent> => track(a.fork({ exec: false }));
/** A real host process standing for a native guest (blink): it prints "ready", then each of `sigs` it gets; `line` waits for one. */
function printingHost(sigs: string[]): { host: ChildProcess; lines: string[]; line(l: string): Promise<void>; count(n: number): Promise<void>; prove(nonce: string): Promise<void> } {
  // It also proves it is the guest's host process (spec/protocol.md §7.3): it holds the proof file named on its stdin.
  const host = spawn(
    process.execPath,
    ["-e", `for (const s of ${JSON.stringify(sigs)}) process.on(s, () => console.log(s)); require("node:readline").createInterface({ input: process.stdin }).on("line", (p) => { require("node:fs").openSync(p, "r"); console.log("proved"); }); console.log("ready"); setInterval(() => {}, 1e6);`],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  hosts.push(host);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: host.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const until = (done: () => boolean, what = "the host program's next line"): Promise<void> => bounded(what, done, 20_000, () => new Promise<void>((r) => waiters.push(r)));
  const prove = async (nonce: string): Promise<void> => {
    const f = path.join(os.tmpdir(), `blinkd-proof-${nonce}`);
    fs.writeFileSync(f, "");
    host.stdin!.write(f + "\n");
    await until(() => lines.includes("proved"));
    lines.splice(lines.indexOf("proved"), 1);
    fs.rmSync(f, { force: true });
  };
  return { host, lines, line: (l) => until(() => lines.includes(l)), count: (n) => until(() => lines.length >= n), prove };
}
const signals = (a: Agent): unknown[][] => a.events.filter((e) => e.event === EV.SIGNAL).map((e) => e.fields);

describe("init's protections (sig_task_ignored, SIGNAL_UNKILLABLE) and kill(-1)", () => {
  it("init ignores an unhandled SIGTERM and SIGKILL/SIGSTOP from inside; kill(-1) skips init and the caller; a handled SIGTERM reaches init, whose handler exits", async () => {
    const { init } = await start();
    expect(init.pid).toBe(1);
    const a = await fork(init);
    const b = await fork(init);
    // Unhandled SIGTERM, and SIGKILL and SIGSTOP from inside: discarded at generation, kill returns 0.
    for (const sig of [SIGTERM, SIGKILL, SIGSTOP]) expect((await a.call("kill", { pid: 1, sig })).ok).toBe(true);
    // init is alive and running: it answers (a SIGSTOPped agent could not), nothing is pending.
    expect((await init.ok("getpid")).result).toBe(1);
    expect(BigInt((await init.ok("rt_sigpending")).out!.set as number)).toBe(0n);
    expect(signals(init)).toEqual([]);

    // kill(-1): every process with pid > 1 but the caller's thread group (kill_something_info).
    for (const g of [init, a, b]) await g.ok("rt_sigaction", { signo: SIGUSR1, handler: HANDLER, flags: 0 });
    expect((await a.call("kill", { pid: -1, sig: SIGUSR1 })).ok).toBe(true);
    const e = await b.waitEvent((x) => x.event === EV.SIGNAL);
    expect(e.fields).toEqual([SIGUSR1, a.pid, SI_USER, uid, 0]);
    // A signal to init or to the caller would have been written before a's reply; a round trip on each shows none.
    await init.ok("getpid");
    await a.ok("getpid");
    expect(signals(init)).toEqual([]);
    expect(signals(a)).toEqual([]);

    // A handled SIGTERM reaches init; its handler exits, which ends the namespace.
    await init.ok("rt_sigaction", { signo: SIGTERM, handler: HANDLER, flags: 0 });
    expect((await a.call("kill", { pid: 1, sig: SIGTERM })).ok).toBe(true);
    const t = await init.waitEvent((x) => x.event === EV.SIGNAL && x.fields[0] === SIGTERM);
    expect(t.fields).toEqual([SIGTERM, a.pid, SI_USER, uid, 0]);
    void init.exit(0);
    // zap_pid_ns_processes: the other guests' host processes are SIGKILLed.
    expect(await a.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(await b.exited).toEqual({ code: null, signal: "SIGKILL" });
  }, 60_000);
});

describe("orphaned process group (kill_orphaned_pgrp)", () => {
  it("a stopped group orphaned by its parent's exit gets SIGHUP then SIGCONT from the kernel and runs again", async () => {
    const { init } = await start();
    const p = await fork(init);
    expect((await p.ok("setsid")).result).toBe(p.pid); // session p, group p
    const q = await fork(p);
    await q.ok("setpgid", { pid: 0, pgid: 0 }); // group q in session p: held by p (group p, same session)
    await q.ok("rt_sigaction", { signo: SIGHUP, handler: HANDLER, flags: 0 });
    await q.ok("rt_sigaction", { signo: SIGCONT, handler: HANDLER, flags: 0 });
    await p.ok("kill", { pid: q.pid, sig: SIGSTOP });
    const w = await p.ok("wait4", { pid: q.pid, options: WUNTRACED });
    expect(w.out!.wstatus).toBe(0x137f); // WIFSTOPPED, WSTOPSIG 19
    // p exits: q goes to init (another session); group q is orphaned with a stopped member.
    void p.exit(0);
    const hup = await q.waitEvent((x) => x.event === EV.SIGNAL && x.fields[0] === SIGHUP);
    const cont = await q.waitEvent((x) => x.event === EV.SIGNAL && x.fields[0] === SIGCONT);
    expect(hup.fields).toEqual([SIGHUP, 0, SI_KERNEL, 0, 0]);
    expect(cont.fields).toEqual([SIGCONT, 0, SI_KERNEL, 0, 0]);
    // Both are deliverable at once when q resumes: SIGHUP is taken first, so SIGCONT's frame
    // is on top and its handler runs first, as under unshare --pid (spec/signals.md §3).
    expect(q.events.indexOf(cont)).toBeLessThan(q.events.indexOf(hup));
    // It was continued: it answers, and its new parent sees WCONTINUED.
    expect((await q.ok("getppid")).result).toBe(1);
    const c = await init.ok("wait4", { pid: q.pid, options: WCONTINUED });
    expect(c.out!.wstatus).toBe(0xffff);
  }, 60_000);
});

describe("SIGCHLD, masks and delivery 1 (one daemon)", () => {
  let d: Served;
  let init: Agent;
  it("SA_NOCLDSTOP: no SIGCHLD for a child's stop or continue, but wait4 sees both; without it, CLD_STOPPED", async () => {
    ({ d, init } = await start());
    const c = await fork(init);
    await init.ok("rt_sigaction", { signo: SIGCHLD, handler: HANDLER, flags: SA_NOCLDSTOP });
    await init.ok("kill", { pid: c.pid, sig: SIGSTOP });
    expect((await init.ok("wait4", { pid: c.pid, options: WUNTRACED })).out!.wstatus).toBe(0x137f);
    await init.ok("kill", { pid: c.pid, sig: SIGCONT });
    expect((await init.ok("wait4", { pid: c.pid, options: WCONTINUED })).out!.wstatus).toBe(0xffff);
    // do_notify_parent_cldstop sends synchronously inside kill: an event would precede kill's reply.
    expect(signals(init)).toEqual([]);
    await init.ok("rt_sigaction", { signo: SIGCHLD, handler: HANDLER, flags: 0 });
    await init.ok("kill", { pid: c.pid, sig: SIGSTOP });
    expect(signals(init)).toEqual([[SIGCHLD, c.pid, CLD_STOPPED, uid, SIGSTOP]]);
    await init.ok("kill", { pid: c.pid, sig: SIGKILL }); // SIGKILL acts on a stopped process
    expect((await init.ok("wait4", { pid: c.pid, options: 0 })).out!.wstatus).toBe(SIGKILL);
  }, 60_000);

  it("SIGTSTP stops (WSTOPSIG 20) and SIGCONT continues; in an orphaned group SIGTSTP is dropped but SIGSTOP stops (get_signal: is_current_pgrp_orphaned)", async () => {
    const c = await fork(init);
    await init.ok("kill", { pid: c.pid, sig: SIGTSTP });
    expect((await init.ok("wait4", { pid: c.pid, options: WUNTRACED })).out!.wstatus).toBe(0x147f);
    await init.ok("kill", { pid: c.pid, sig: SIGCONT });
    expect((await init.ok("wait4", { pid: c.pid, options: WCONTINUED })).out!.wstatus).toBe(0xffff);
    // setsid: c's new group has no member with a parent in another group of its session.
    await c.ok("setsid");
    await init.ok("kill", { pid: c.pid, sig: SIGTSTP });
    expect((await c.ok("getpid")).result).toBe(c.pid); // a stopped agent could not answer
    expect((await init.ok("wait4", { pid: c.pid, options: WUNTRACED | WNOHANG })).result).toBe(0);
    await init.ok("kill", { pid: c.pid, sig: SIGSTOP });
    expect((await init.ok("wait4", { pid: c.pid, options: WUNTRACED })).out!.wstatus).toBe(0x137f);
    await init.ok("kill", { pid: c.pid, sig: SIGKILL });
    expect((await init.ok("wait4", { pid: c.pid, options: 0 })).out!.wstatus).toBe(SIGKILL);
  }, 60_000);

  it("delivery 0, several signals at once with a default fatal one among them: the process dies of it and no handler's event is sent (get_signal: do_group_exit before the return to user mode)", async () => {
    const host = printingHost([]);
    await host.line("ready");
    const exited = new Promise<string | null>((r) => host.host.once("exit", (_c, s) => r(s)));
    const { pid, token } = await init.ok("fork").then((r) => ({ pid: r.result!, token: r.out!.token as string }));
    const g = await Raw.open(d.socket);
    expect(await g.claim(token, { pid: host.host.pid!, prove: host.prove })).toBe(pid);
    await g.call("rt_sigaction", { signo: SIGUSR1, handler: HANDLER, flags: 0 });
    await g.call("rt_sigprocmask", { how: 0, set: bit(SIGUSR1) | bit(SIGTERM) });
    await init.ok("kill", { pid, sig: SIGUSR1 });
    await init.ok("kill", { pid, sig: SIGTERM });
    void g.call("rt_sigprocmask", { how: 1, set: bit(SIGUSR1) | bit(SIGTERM) }); // no reply: the process dies in it
    expect((await init.ok("wait4", { pid, options: 0 })).out!.wstatus).toBe(SIGTERM);
    expect(await exited).toBe("SIGKILL");
    expect(g.events.filter((e) => e[1] === EV.SIGNAL)).toEqual([]);
    g.destroy();
  }, 60_000);

  it("a signal to a child that has not claimed its pid yet (delivery 0) acts when it claims, as a Linux child's when it first runs: a stop, a fatal signal, a handled one (its event before the claim's reply), an ignored one (spec/native/early.c shows Linux)", async () => {
    const SIGUSR2_ = SIGUSR2;
    /** init forks, signals the unclaimed child, then a real host process's connection claims it. */
    const early = async (sig: number): Promise<{ pid: number; g: Raw; host: ReturnType<typeof printingHost>; gone: Promise<string | null> }> => {
      const r = await init.ok("fork");
      const pid = r.result;
      await init.ok("kill", { pid, sig });
      const host = printingHost([]);
      await host.line("ready");
      const gone = new Promise<string | null>((res) => host.host.once("exit", (_c, s) => res(s)));
      const g = await Raw.open(d.socket);
      expect(await g.claim(r.out!.token as string, { pid: host.host.pid!, prove: host.prove })).toBe(pid);
      return { pid, g, host, gone };
    };
    // A stop: the parent's wait4(WUNTRACED) sees it once the child claims.
    let e = await early(SIGSTOP);
    expect((await init.ok("wait4", { pid: e.pid, options: WUNTRACED })).out!.wstatus).toBe(0x137f);
    await init.ok("kill", { pid: e.pid, sig: SIGKILL });
    expect((await init.ok("wait4", { pid: e.pid, options: 0 })).out!.wstatus).toBe(SIGKILL);
    e.g.destroy();
    // A fatal default action: it dies of it, its host process is killed.
    e = await early(SIGTERM);
    expect((await init.ok("wait4", { pid: e.pid, options: 0 })).out!.wstatus).toBe(SIGTERM);
    expect(await e.gone).toBe("SIGKILL");
    e.g.destroy();
    // A handled one (the child inherited init's handler): its event comes with the claim.
    await init.ok("rt_sigaction", { signo: SIGUSR1, handler: HANDLER, flags: 0 });
    e = await early(SIGUSR1);
    await init.ok("rt_sigaction", { signo: SIGUSR1, handler: 0, flags: 0 });
    expect(e.g.events.filter((x) => x[1] === EV.SIGNAL)).toEqual([[EVENT, EV.SIGNAL, SIGUSR1, 1, SI_USER, uid, 0]]);
    // An ignored one (inherited SIG_IGN): dropped; the child lives on with nothing pending.
    await init.ok("rt_sigaction", { signo: SIGUSR2_, handler: 1, flags: 0 });
    const f = await early(SIGUSR2_);
    await init.ok("rt_sigaction", { signo: SIGUSR2_, handler: 0, flags: 0 });
    expect(Number((await f.g.call("rt_sigpending", {})).result)).toBe(0);
    expect((await init.ok("wait4", { pid: f.pid, options: WNOHANG })).result).toBe(0);
    for (const x of [e, f]) {
      await init.ok("kill", { pid: x.pid, sig: SIGKILL });
      await init.ok("wait4", { pid: x.pid, options: 0 });
      x.g.destroy();
    }
  }, 60_000);

  it("fork: the child inherits the forking thread's mask (dup_task_struct)", async () => {
    await init.ok("rt_sigprocmask", { how: 0, set: bit(SIGUSR1) });
    const c = await fork(init);
    expect(BigInt((await c.ok("rt_sigprocmask", { how: 0, set: 0 })).out!.old as number)).toBe(bit(SIGUSR1));
    await init.ok("rt_sigprocmask", { how: 2, set: 0 });
    await init.ok("kill", { pid: c.pid, sig: SIGKILL });
    await init.ok("wait4", { pid: c.pid, options: 0 });
  }, 60_000);

  it("delivery 1: the host process gets the same host signal, not while blocked; sig_dequeue gives the emulated siginfo; a default action kills the host process", async () => {
    // A real host process standing for a native guest (blink): it prints each host signal it gets.
    const { host, lines, line, prove } = printingHost(["SIGUSR1", "SIGUSR2"]);
    const exited = new Promise<string | null>((r) => host.once("exit", (_c, s) => r(s)));
    await line("ready");

    const g = await Raw.open(d.socket);
    await g.helloOk();
    await prove(g.nonce);
    const pid = Number((await g.call("register", { hostpid: host.pid!, exe: "/bin/native", argv: ["native"], delivery: 1 })).result);
    expect(pid).toBeGreaterThan(1);
    for (const s of [SIGUSR1, SIGUSR2]) expect(Number((await g.call("rt_sigaction", { signo: s, handler: HANDLER, flags: 0 })).result)).toBe(0);
    expect(Number((await g.call("rt_sigprocmask", { how: 0, set: bit(SIGUSR2) })).result)).toBe(0);

    await init.ok("kill", { pid, sig: SIGUSR2 }); // blocked: pending, no host signal
    expect(BigInt((await g.call("rt_sigpending", {})).out[0] as number)).toBe(bit(SIGUSR2));
    await init.ok("kill", { pid, sig: SIGUSR1 });
    await line("SIGUSR1");
    // Both host signals were sent by the daemon in order; SIGUSR2 must not have come before.
    expect(lines).toEqual(["ready", "SIGUSR1"]);
    await g.call("rt_sigprocmask", { how: 1, set: bit(SIGUSR2) }); // unblock: rung now
    await line("SIGUSR2");
    expect(lines).toEqual(["ready", "SIGUSR1", "SIGUSR2"]);

    // The guest takes them with their emulated siginfo, lowest first, then 0; what the
    // guest's own mask (the call's `mask`) blocks is left pending (dequeue_signal's mask).
    // out.pending is what is left for the thread or process, blocked or not: the guest asks
    // again only when its masks let something of it through.
    const q0 = await g.call("sig_dequeue", { mask: bit(SIGUSR1) | bit(SIGUSR2) });
    expect(Number(q0.result)).toBe(0);
    expect(BigInt(q0.out[4] as number)).toBe(bit(SIGUSR1) | bit(SIGUSR2));
    const q2 = await g.call("sig_dequeue", { mask: bit(SIGUSR1) });
    expect([Number(q2.result), ...q2.out.map(Number)]).toEqual([SIGUSR2, 1, SI_USER, uid, 0, Number(bit(SIGUSR1))]);
    const q1 = await g.call("sig_dequeue", { mask: 0n });
    expect([Number(q1.result), ...q1.out.map(Number)]).toEqual([SIGUSR1, 1, SI_USER, uid, 0, 0]);
    expect(Number((await g.call("sig_dequeue", { mask: 0n })).result)).toBe(0);

    // SIGTERM unhandled: the daemon applies the default action and SIGKILLs the host process.
    await init.ok("kill", { pid, sig: SIGTERM });
    expect(await exited).toBe("SIGKILL");
    g.destroy();
  }, 60_000);

  it("delivery 2: the host process is rung also for a signal every thread blocks when the daemon would act on it once unblocked (a handler, a default action) or a reset of its SIG_DFL would discard it (a default of ignore), not for a SIG_IGN one; the unblock rings the handled one again and acts on the default one", async () => {
    const SIGWINCH = 28;
    const { host, lines, line, count, prove } = printingHost(["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGHUP", "SIGWINCH"]);
    const exited = new Promise<string | null>((r) => host.once("exit", (_c, s) => r(s)));
    await line("ready");
    const g = await Raw.open(d.socket);
    await g.helloOk();
    await prove(g.nonce);
    const pid = Number((await g.call("register", { hostpid: host.pid!, exe: "/bin/blink", argv: ["blink"], delivery: 2 })).result);
    expect(pid).toBeGreaterThan(1);
    for (const [s, h] of [[SIGUSR1, HANDLER], [SIGUSR2, HANDLER], [SIGHUP, 1]] as const) expect(Number((await g.call("rt_sigaction", { signo: s, handler: h, flags: 0 })).result)).toBe(0);
    const blocked = bit(SIGUSR1) | bit(SIGTERM) | bit(SIGHUP) | bit(SIGWINCH);
    await g.call("rt_sigprocmask", { how: 0, set: blocked });

    await init.ok("kill", { pid, sig: SIGUSR1 }); // handled, blocked: rung (the guest's host mask would hold it)
    await line("SIGUSR1");
    await init.ok("kill", { pid, sig: SIGHUP }); // SIG_IGN, blocked: queued (sig_ignored), dropped when unblocked: not rung
    // SIG_DFL whose default is to ignore: queued, dropped when unblocked, but setting its SIG_DFL
    // again discards it (do_sigaction), so it rings: the guest's host pending set tells whether
    // such a reset has anything to discard (blink patch 0021 skips the report when not)
    await init.ok("kill", { pid, sig: SIGWINCH });
    await line("SIGWINCH");
    await init.ok("kill", { pid, sig: SIGTERM }); // SIG_DFL, fatal once unblocked: rung, and the process lives on
    await line("SIGTERM");
    await init.ok("kill", { pid, sig: SIGUSR2 }); // handled, not blocked: rung as in delivery 1
    await line("SIGUSR2");
    // The daemon rang in the order of the kills: SIGHUP did not ring.
    expect(lines).toEqual(["ready", "SIGUSR1", "SIGWINCH", "SIGTERM", "SIGUSR2"]);
    expect(BigInt((await g.call("rt_sigpending", {})).out[0] as number)).toBe(blocked);

    // Unblocking the handled one rings it again (as in delivery 1: nothing is lost if the first bell was taken off the host); sig_dequeue takes it.
    await g.call("rt_sigprocmask", { how: 1, set: bit(SIGUSR1) });
    await count(6);
    expect(lines[5]).toBe("SIGUSR1");
    const q = await g.call("sig_dequeue", { mask: 0n });
    expect([Number(q.result), ...q.out.slice(0, 4).map(Number)]).toEqual([SIGUSR1, 1, SI_USER, uid, 0]);
    const q2 = await g.call("sig_dequeue", { mask: 0n });
    expect(Number(q2.result)).toBe(SIGUSR2);
    expect(Number((await g.call("sig_dequeue", { mask: 0n })).result)).toBe(0);
    // The ignored ones go when unblocked; the fatal one kills (the host process gets SIGKILL).
    await g.call("rt_sigprocmask", { how: 1, set: bit(SIGHUP) | bit(SIGWINCH) });
    expect(BigInt((await g.call("rt_sigpending", {})).out[0] as number)).toBe(bit(SIGTERM));
    expect(lines).toHaveLength(6);
    void g.call("rt_sigprocmask", { how: 1, set: bit(SIGTERM) }); // no reply: the process dies in it
    expect(await exited).toBe("SIGKILL");
    g.destroy();
  }, 60_000);

  it("sig_wait (delivery 1's sigtimedwait): takes a signal of the set whatever the mask; armed, a blocked signal of the set rings the host process and no default action is taken; the next sig_wait ends the wait; sig_watch (signalfd) rings a blocked signal too", async () => {
    const { host, lines, line, count, prove } = printingHost(["SIGTERM", "SIGUSR1"]);
    await line("ready");
    const g = await Raw.open(d.socket);
    await g.helloOk();
    await prove(g.nonce);
    const pid = Number((await g.call("register", { hostpid: host.pid!, exe: "/bin/native", argv: ["native"], delivery: 1 })).result);
    const blocked = bit(SIGTERM) | bit(SIGUSR1);
    await g.call("rt_sigprocmask", { how: 0, set: blocked });
    const wait = async (set: bigint, arm: number): Promise<number[]> => {
      const r = await g.call("sig_wait", { set, arm });
      return [Number(r.result), ...r.out.map(Number)];
    };

    // Blocked and SIG_DFL: queued (sig_ignored: blocked signals are never ignored), taken by sig_wait.
    await init.ok("kill", { pid, sig: SIGTERM });
    expect(await wait(blocked, 0)).toEqual([SIGTERM, 1, SI_USER, uid, 0]);
    expect(await wait(blocked, 1)).toEqual([0, 0, 0, 0, 0]); // none: the thread now waits for the set
    await init.ok("kill", { pid, sig: SIGTERM });
    await line("SIGTERM"); // rung although blocked; the process is not killed
    expect(await wait(blocked, 0)).toEqual([SIGTERM, 1, SI_USER, uid, 0]); // taken; the wait is over
    await init.ok("kill", { pid, sig: SIGUSR1 }); // not waiting: no host signal for the blocked SIGUSR1
    expect(BigInt((await g.call("rt_sigpending", {})).out[0] as number)).toBe(bit(SIGUSR1));
    // Waiting for SIGTERM alone: SIGUSR1 is neither taken nor rung; a SIGTERM is.
    expect(await wait(bit(SIGTERM), 1)).toEqual([0, 0, 0, 0, 0]);
    await init.ok("kill", { pid, sig: SIGTERM });
    await count(3);
    expect(lines).toEqual(["ready", "SIGTERM", "SIGTERM"]);
    expect(await wait(bit(SIGUSR1), 0)).toEqual([SIGUSR1, 1, SI_USER, uid, 0]);
    expect(await wait(blocked, 0)).toEqual([SIGTERM, 1, SI_USER, uid, 0]);

    // sig_watch (signalfd): a blocked signal the guest reads from a signalfd rings, one
    // already pending at once; sig_wait takes it.
    await init.ok("kill", { pid, sig: SIGUSR1 });
    await g.call("sig_watch", { set: bit(SIGUSR1) });
    await count(4);
    expect(lines).toEqual(["ready", "SIGTERM", "SIGTERM", "SIGUSR1"]);
    expect(await wait(bit(SIGUSR1), 0)).toEqual([SIGUSR1, 1, SI_USER, uid, 0]);
    await init.ok("kill", { pid, sig: SIGUSR1 });
    await count(5);
    expect(await wait(bit(SIGUSR1), 0)).toEqual([SIGUSR1, 1, SI_USER, uid, 0]);
    g.destroy();
  }, 60_000);

  it("delivery 1 through the C client: a native program's host SIGUSR1 handler runs, then sig_dequeue gives the emulated sender's siginfo", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-deliver1-"));
    const exe = path.join(dir, "deliver1");
    execFileSync("cc", ["-O2", "-Wall", "-I", path.join(ROOT, "clients/c"), "-I", path.join(ROOT, "dist/c/gen"), "-o", exe, path.join(ROOT, "spec/native/deliver1.c"), path.join(ROOT, "dist/c/libblinkd.a")], { stdio: ["ignore", "inherit", "inherit"] });
    const prog = spawn(exe, [], { env: { ...process.env, BLINKD_SOCKET: d.socket }, stdio: ["ignore", "pipe", "inherit"] });
    hosts.push(prog);
    const out: string[] = [];
    let wake: (() => void) | undefined;
    createInterface({ input: prog.stdout! }).on("line", (l) => {
      out.push(l);
      wake?.();
    });
    const exited = new Promise<number | null>((r) => prog.once("exit", (c) => r(c)));
    const nth = async (n: number): Promise<string> => {
      await bounded(`line ${n + 1} of the program`, () => out.length > n, 20_000, () => new Promise<void>((r) => (wake = r)));
      return out[n]!;
    };
    const pid = Number(/^ready (\d+)$/.exec(await nth(0))![1]);
    await init.ok("kill", { pid, sig: SIGUSR1 });
    expect(await nth(1)).toBe(`host ${SIGUSR1} dequeue ${SIGUSR1} pid 1 code ${SI_USER} uid ${uid} status 0`);
    expect(await nth(2)).toBe("again 0");
    expect(await exited).toBe(0);
  }, 60_000);
});
