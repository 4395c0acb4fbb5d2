/** Read-only inspection calls for control connections: ps, the /proc snapshot, actor snapshots and the event stream. */
import * as Effect from "effect/Effect";
import type { control } from "../protocol/calls/control.js";
import { E, errno } from "../protocol/errno.js";
import { EV } from "../protocol/messages.js";
import type { Kernel } from "../actors/kernel.js";
import type { ProcessContext } from "../machine/process.js";
import { checkKernel } from "../actors/invariants.js";
import type { EventRecord } from "../actors/eventlog.js";
import { NODE_KIND, walk } from "../procfs/tree.js";
import { viewOf, type ProcView } from "../procfs/view.js";
import { fdsOf } from "../procfs/fdinfo.js";
import type { DaemonView, Handlers } from "./types.js";

export interface ProcRecord {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** The lifecycle state ("running", "zombie", …; "stopped" while stopped). */
  state: string;
  /** procps's STAT: the state letter and its flags (s session leader, l multithreaded, L locked pages). */
  stat: string;
  threads: number[];
  comm: string;
  exe: string;
  argv: string[];
  hostpid: number;
  wstatus: number | null;
  startTime: number;
}

/** procps's pr_stat (ps/output.c): the state, then '<'/'N' for nice, 'L', 's', 'l', '+'. */
export function procpsStat(v: ProcView): string {
  let s: string = v.state;
  if (v.mem && v.mem.lck > 0n) s += "L";
  if (v.sid === v.pid) s += "s";
  if (v.tasks.length > 1) s += "l";
  // '+' is for the terminal's foreground group: no emulated process has a controlling terminal.
  return s;
}

export function listProcesses(k: Kernel): ProcRecord[] {
  const out: ProcRecord[] = [];
  for (const pid of [...k.procs.keys()].sort((a, b) => a - b)) {
    const v = viewOf(k, pid)!;
    const c = k.ctx(pid)!;
    out.push({
      pid,
      ppid: v.ppid,
      pgid: v.pgid,
      sid: v.sid,
      state: c.job.stopped && (v.lifecycle === "running" || v.lifecycle === "native") ? "stopped" : v.lifecycle,
      stat: procpsStat(v),
      threads: [...c.threads],
      comm: v.comm,
      exe: c.image.exe,
      argv: c.image.argv,
      hostpid: c.hostpid,
      wstatus: c.wstatus,
      startTime: Math.round(c.startTime),
    });
  }
  return out;
}

/**
 * A machine's context as plain msgpack data: sets become arrays, maps objects, 64-bit masks
 * hex strings, binary environment blocks their strings, fractional milliseconds whole ones.
 */
export function plain(v: unknown): unknown {
  if (typeof v === "bigint") return "0x" + v.toString(16);
  if (typeof v === "number") return Number.isInteger(v) ? v : Math.round(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8").split("\0").filter(Boolean);
  if (v instanceof Set) return [...v].map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== "function" && x !== undefined) o[k] = plain(x);
    return o;
  }
  return v;
}

export interface ActorRecord {
  id: string;
  kind: "namespace" | "process" | "thread";
  state: unknown;
  context: unknown;
  parked?: { seq: number; call: string }[];
  fds?: unknown[];
}

/**
 * The process context as `inspect` shows it: one flat map in the order it always had. The
 * machine groups fields that change rarely (image, flags, sigactions, job) to stay under
 * V8's fast-object limit (src/machine/process.ts); users see them each by name.
 */
function flatProcess(c: ProcessContext): Record<string, unknown> {
  return {
    pid: c.pid,
    ppid: c.ppid,
    pgid: c.pgid,
    sid: c.sid,
    exe: c.image.exe,
    argv: c.image.argv,
    hostpid: c.hostpid,
    startTime: c.startTime,
    delivery: c.delivery,
    comm: c.image.comm,
    parentTid: c.parentTid,
    exitSignal: c.flags.exitSignal,
    children: c.children,
    threads: c.threads,
    wstatus: c.wstatus,
    statusAssumed: c.flags.statusAssumed,
    execed: c.flags.execed,
    childSubreaper: c.flags.childSubreaper,
    sigIgnored: c.sigactions.ignored,
    sigCaught: c.sigactions.caught,
    saFlags: c.sigactions.flags,
    creds: c.creds,
    pending: c.pending,
    stopped: c.job.stopped,
    waitReport: c.job.waitReport,
    info: c.info,
  };
}

function processActors(k: Kernel, d: DaemonView, pid: number): ActorRecord[] {
  const snap = k.proc(pid)!.getSnapshot();
  const out: ActorRecord[] = [
    { id: `proc:${pid}`, kind: "process", state: snap.value, context: plain(flatProcess(snap.context)), fds: fdsOf(k, pid).map(plain) },
  ];
  for (const tid of [...snap.context.threads].sort((a, b) => a - b)) {
    const t = k.threads.get(tid);
    if (!t) continue;
    const ts = t.getSnapshot();
    out.push({ id: `thread:${tid}`, kind: "thread", state: ts.value, context: plain(ts.context), parked: d.parkedCalls(tid) });
  }
  return out;
}

export function inspectActors(k: Kernel, d: DaemonView, pid: number): ActorRecord[] {
  if (pid > 0) return processActors(k, d, pid);
  const ns = k.ns.getSnapshot();
  const out: ActorRecord[] = [{ id: "namespace", kind: "namespace", state: ns.value, context: plain(ns.context) }];
  for (const p of [...k.procs.keys()].sort((a, b) => a - b)) out.push(...processActors(k, d, p));
  return out;
}

export const controlCalls: Handlers<typeof control> = {
  ps: (ctx) => ({ result: ctx.k.procs.size, out: { procs: listProcesses(ctx.k) } }),
  check: (ctx) => {
    const report = checkKernel(ctx.k);
    return { result: report.problems.length, out: { report } };
  },
  procfs_snapshot: (ctx) => {
    const nodes = walk(ctx.k).map(([p, n]) => [p, NODE_KIND[n.kind], n.kind === "file" ? n.data : n.kind === "link" ? n.target : null]);
    return { result: nodes.length, out: { nodes } };
  },
  inspect: (ctx, { pid }) => {
    if (pid < 0) return errno(E.EINVAL, `inspect.pid: ${pid} is not a pid (0 means every actor)`);
    if (pid > 0 && !ctx.k.procs.has(pid)) return errno(E.ESRCH, `no process ${pid} in this namespace`);
    const actors = inspectActors(ctx.k, ctx.daemon, pid);
    return { result: actors.length, out: { actors } };
  },
  events: (ctx, { pid, follow }) => {
    if (pid < 0) return errno(E.EINVAL, `events.pid: ${pid} is not a pid (0 means every process)`);
    const log = ctx.daemon.events;
    if (!follow) {
      const events = log.recent(pid);
      return { result: events.length, out: { events } };
    }
    // Streams until the client interrupts the call (or closes): the reply is then ERESTARTSYS.
    return ctx.interruptible(
      Effect.async<never, never>(() => {
        let lost = 0;
        const send = (r: EventRecord): void => {
          if (pid !== 0 && r.pid !== pid) return;
          if (lost > 0) {
            if (!ctx.caller.notify(EV.INSPECT, [{ kind: "lost", count: lost }])) return void lost++;
            lost = 0;
          }
          if (!ctx.caller.notify(EV.INSPECT, [r])) lost++;
        };
        for (const r of log.recent(pid)) send(r);
        const stop = log.follow(send);
        return Effect.sync(stop);
      }),
    );
  },
};
