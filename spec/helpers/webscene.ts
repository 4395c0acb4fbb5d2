/**
 * The scenario the web view's tests watch: real guest processes (agents) of a real daemon
 * making the namespace show everything the page draws: a process group and a session of
 * their own, a second thread, a signal blocked and pending, an eventfd shared across a fork
 * with a reader parked on it and then woken, a stopped process, an orphan reparented to
 * init, a zombie, a reap. Each step names what it does; callers look between steps.
 */
import { Control } from "../../src/client/control.js";
import { agent, type Agent } from "./agent.js";
import type { Namespace } from "./namespace.js";

export const SIGUSR1 = 10;
export const SIGSTOP = 19;
export const SIGCONT = 18;

export interface Cast {
  init: Agent;
  a?: Agent;
  b?: Agent;
  c?: Agent;
  t?: Agent;
  fd?: number;
  read?: Promise<unknown>;
}

export interface Step {
  readonly name: string;
  run(cast: Cast, ns: Namespace, ctl: Control): Promise<void>;
}

/** Waits (bounded) until the thread has a call of that name parked in the daemon. */
export async function parked(ctl: Control, pid: number, tid: number, call: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const actors = await ctl.inspect(pid);
    if (actors.some((a) => a.id === `thread:${tid}` && a.parked?.some((p) => p.call === call))) return;
    if (Date.now() > until) throw new Error(`thread ${tid} never parked in ${call} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits (bounded) until `ps` shows the process in `state`. */
export async function inState(ctl: Control, pid: number, state: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = (await ctl.ps()).find((x) => x.pid === pid);
    if (p?.state === state) return;
    if (Date.now() > until) throw new Error(`process ${pid} never became ${state} within ${timeoutMs} ms (it is ${p?.state ?? "gone"})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** init sends `sig` to `to`, which the step waits to see in `state`. */
async function initSignals(c: Cast, ctl: Control, to: Agent, sig: number, state: string): Promise<void> {
  await c.init.ok("kill", { pid: to.pid, sig });
  await inState(ctl, to.pid, state);
}

/** `who` exits with `status`; the step waits for its zombie. */
async function exits(ctl: Control, who: Agent, status: number): Promise<void> {
  await who.exit(status);
  await inState(ctl, who.pid, "zombie");
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`the scene has no ${what} yet`);
  return v;
};

export const SCENE: readonly Step[] = [
  {
    name: "init forks a",
    run: async (c, ns) => {
      await c.init.ok("report_comm", { comm: "init" });
      c.a = await ns.track(c.init.fork());
      await c.a.ok("report_comm", { comm: "a" });
    },
  },
  { name: "a leads a new process group", run: async (c) => void (await need(c.a, "a").ok("setpgid", { pid: 0, pgid: 0 })) },
  {
    name: "a forks b",
    run: async (c, ns) => {
      c.b = await ns.track(need(c.a, "a").fork());
      await c.b.ok("report_comm", { comm: "b" });
    },
  },
  { name: "b leads a new session", run: async (c) => void (await need(c.b, "b").ok("setsid")) },
  { name: "b opens an eventfd", run: async (c) => void (c.fd = (await need(c.b, "b").ok("eventfd2", { initval: 0, flags: 0 })).result) },
  {
    name: "b forks c, which shares the eventfd",
    run: async (c, ns) => {
      c.c = await ns.track(need(c.b, "b").fork());
      await c.c.ok("report_comm", { comm: "c" });
    },
  },
  {
    name: "c blocks reading the eventfd",
    run: async (c, _ns, ctl) => {
      const cc = need(c.c, "c");
      c.read = cc.ok("eventfd_read", { fd: need(c.fd, "fd"), size: 8 });
      await parked(ctl, cc.pid, cc.pid, "eventfd_read");
    },
  },
  { name: "a blocks SIGUSR1", run: async (c) => void (await need(c.a, "a").ok("rt_sigprocmask", { how: 0, set: 1n << BigInt(SIGUSR1 - 1) })) },
  { name: "init sends a SIGUSR1, which stays pending", run: async (c) => void (await c.init.ok("kill", { pid: need(c.a, "a").pid, sig: SIGUSR1 })) },
  {
    name: "a starts a second thread",
    run: async (c, ns) => {
      const r = await need(c.a, "a").ok("thread_create");
      c.t = await ns.track(agent(ns.daemon.socket, r.out!.token as string));
      await c.t.ok("report_comm", { comm: "a-worker" });
    },
  },
  {
    name: "b writes 3 to the eventfd: c's read returns",
    run: async (c) => {
      await need(c.b, "b").ok("eventfd_write", { fd: need(c.fd, "fd"), value: 3n, size: 8 });
      await c.read;
    },
  },
  { name: "init stops b", run: (c, _ns, ctl) => initSignals(c, ctl, need(c.b, "b"), SIGSTOP, "stopped") },
  { name: "a exits: b is orphaned to init", run: (c, _ns, ctl) => exits(ctl, need(c.a, "a"), 0) },
  { name: "init reaps a", run: async (c) => void (await c.init.ok("wait4", { pid: need(c.a, "a").pid, options: 0 })) },
  { name: "init continues b", run: (c, _ns, ctl) => initSignals(c, ctl, need(c.b, "b"), SIGCONT, "running") },
  { name: "c exits with 5: a zombie of b", run: (c, _ns, ctl) => exits(ctl, need(c.c, "c"), 5) },
];
