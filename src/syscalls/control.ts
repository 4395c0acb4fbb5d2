/** Read-only inspection calls for control connections: ps, the /proc snapshot, actor snapshots and the event stream. */
import * as Effect from "effect/Effect";
import type { control } from "../protocol/calls/control.js";
import { E, errno } from "../protocol/errno.js";
import { EV } from "../protocol/messages.js";
import type { Kernel } from "../actors/kernel.js";
import { flatProcess, plain, recordedChanges } from "../actors/actorview.js";
import { threadView } from "../actors/leader.js";
import type { Eventfd } from "../actors/eventfd.js";
import { checkKernel } from "../actors/invariants.js";
import type { EventRecord } from "../actors/eventlog.js";
import { NODE_KIND, walk } from "../procfs/tree.js";
import { viewOf, type ProcView } from "../procfs/view.js";
import { fdsOf } from "../procfs/fdinfo.js";
import type { DaemonView, Handlers } from "./types.js";
import type { ProcRecord, ActorRecord } from "../protocol/records.js";
// The records a control call returns are declared once in the protocol (the CLI and the web view read them).
export type { ProcRecord, ActorRecord } from "../protocol/records.js";


/** procps's pr_stat (ps/output.c): the state, then '<'/'N' for nice, 'L', 's', 'l', '+'. */
export function procpsStat(v: ProcView): string {
  let s: string = v.state;
  // procps pr_stat: '<' for a negative nice, 'N' for a positive one, before the rest.
  const nice = Number(v.prioNice?.[1] ?? 0);
  if (nice < 0) s += "<";
  else if (nice > 0) s += "N";
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


function processActors(k: Kernel, d: DaemonView, pid: number): ActorRecord[] {
  const snap = k.proc(pid)!.getSnapshot();
  const out: ActorRecord[] = [
    { id: `proc:${pid}`, kind: "process", state: snap.value, context: plain(flatProcess(snap.context)), fds: fdsOf(k, pid).map(plain) },
  ];
  for (const tid of [...snap.context.threads].sort((a, b) => a - b)) {
    const t = k.threads.get(tid);
    if (!t) continue;
    const ts = t.getSnapshot();
    out.push({ id: `thread:${tid}`, kind: "thread", state: ts.value, context: plain(threadView(ts.context, t.blocked)), parked: d.parkedCalls(tid) });
  }
  return out;
}

export function inspectActors(k: Kernel, d: DaemonView, pid: number): ActorRecord[] {
  if (pid > 0) return processActors(k, d, pid);
  const ns = k.ns.getSnapshot();
  // `seq`: the last record of `blinkd events` this snapshot includes (records after it are later).
  const out: ActorRecord[] = [{ id: "namespace", kind: "namespace", state: ns.value, context: plain(ns.context), seq: d.events.lastSeq }];
  for (const p of [...k.procs.keys()].sort((a, b) => a - b)) out.push(...processActors(k, d, p));
  out.push(...eventfdActors(k));
  return out;
}

/** Every open eventfd that a descriptor refers to, with its descriptors in every process and its waiters. */
function eventfdActors(k: Kernel): ActorRecord[] {
  const held = new Map<Eventfd, { pid: number; fd: number; cloexec: boolean }[]>();
  for (const [pid, t] of k.files.tableEntries())
    for (const [fd, desc] of t.fds) {
      let h = held.get(desc.file);
      if (!h) held.set(desc.file, (h = []));
      h.push({ pid, fd, cloexec: desc.cloexec });
    }
  return [...held]
    .sort(([a], [b]) => a.id - b.id)
    .map(([f, holders]) => {
      const snap = f.actor.getSnapshot();
      const id = `eventfd:${f.id}`;
      return {
        id,
        kind: "eventfd" as const,
        state: snap.value,
        context: recordedChanges(id, snap.context as unknown as Record<string, unknown>),
        holders: holders.sort((a, b) => a.pid - b.pid || a.fd - b.fd),
        waiters: f.wq.size,
        flags: "0" + f.flags.toString(8),
      };
    });
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
