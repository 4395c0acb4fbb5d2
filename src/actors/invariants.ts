/**
 * The kernel's consistency checker: what must hold between the registry's actors whenever
 * the daemon is between two events. `blinkd check` (and `blinkd inspect --check`) run it in
 * a live daemon; the chaos suite runs it after killing guests mid-call. It scans
 * everything, so it is for inspection only, never for a hot path.
 *
 * Families that own more state (descriptor tables, objects, connections) add their own
 * checks with `addCheck`; each reports problems as sentences and counts as figures.
 */
import { tracerOf } from "./ptrace.js";
import type { Kernel } from "./kernel.js";
import type { CheckReport } from "../protocol/records.js";
// The records a control call returns are declared once in the protocol (the CLI and the web view read them).
export type { CheckReport } from "../protocol/records.js";


export type Check = (problem: (s: string) => void, count: (name: string, n: number) => void, counts: Readonly<Record<string, number>>) => void;

const extra = new WeakMap<Kernel, Map<string, Check>>();

/** Adds (or replaces) a named check for this kernel. */
export function addCheck(k: Kernel, name: string, check: Check): void {
  let m = extra.get(k);
  if (!m) extra.set(k, (m = new Map()));
  m.set(name, check);
}

/** States in which a process can still reap its children: it runs, is about to, or runs natively and reports on the host. */
const CAN_REAP = new Set(["running", "embryo", "native"]);

export function checkKernel(k: Kernel): CheckReport {
  const problems: string[] = [];
  const counts: Record<string, number> = {};
  const problem = (s: string): void => void problems.push(s);
  const count = (name: string, n: number): void => void (counts[name] = (counts[name] ?? 0) + n);
  for (const n of ["processes", "threads", "tasks", "zombies", "embryos", "native", "reservations", "waiters", "pidRefs"]) counts[n] = 0;

  // Reservations: each names an unclaimed process or thread.
  const reservedProcs = new Set<number>();
  const reservedThreads = new Set<number>();
  for (const r of k.reservations.values()) {
    count("reservations", 1);
    if (r.kind === "process") {
      reservedProcs.add(r.pid);
      if (k.state(r.pid) !== "embryo") problem(`reservation for process ${r.pid}: the process is ${k.state(r.pid) ?? "gone"}, not an unclaimed embryo`);
    } else {
      reservedThreads.add(r.tid);
      const t = k.threads.get(r.tid);
      if (!t || t.getSnapshot().value !== "embryo") problem(`reservation for thread ${r.tid} of ${r.pid}: the thread is ${t ? String(t.getSnapshot().value) : "gone"}, not unclaimed`);
    }
  }

  const wantRefs = new Map<number, number>();
  for (const [pid, a] of k.procs) {
    const snap = a.getSnapshot();
    const c = snap.context;
    const st = String(snap.value);
    count("processes", 1);
    count("tasks", 1);
    if (snap.status !== "active") problem(`process ${pid}: its actor is ${snap.status} (state ${st}) but still holds the pid`);
    if (c.pid !== pid) problem(`process ${pid}: its actor says it is pid ${c.pid}`);
    if (!k.threads.has(pid)) problem(`process ${pid}: its leader thread actor is missing`);
    wantRefs.set(c.pgid, (wantRefs.get(c.pgid) ?? 0) + 1);
    wantRefs.set(c.sid, (wantRefs.get(c.sid) ?? 0) + 1);
    // The group index (Kernel.pgrps) lists every process under its actor's pgid.
    if (!k.pgrp(c.pgid).has(pid)) problem(`process ${pid}: missing from the index of its process group ${c.pgid}`);
    // The parent/child links agree both ways (copy_process adds to ->children; reparenting moves it).
    if (c.ppid !== 0) {
      const p = k.ctx(c.ppid);
      if (!p) problem(`process ${pid}: its parent ${c.ppid} does not exist`);
      else if (!p.children.has(pid)) problem(`process ${pid}: missing from its parent ${c.ppid}'s children`);
    }
    for (const child of c.children) {
      const cc = k.ctx(child);
      if (!cc) problem(`process ${pid}: its child ${child} does not exist`);
      else if (cc.ppid !== pid) problem(`process ${pid}: lists ${child} as a child, whose parent is ${cc.ppid}`);
    }
    for (const tid of c.threads) {
      const t = k.threads.get(tid);
      if (!t) problem(`process ${pid}: its thread ${tid} has no actor`);
      else if (t.getSnapshot().context.pid !== pid) problem(`process ${pid}: its thread ${tid} belongs to ${t.getSnapshot().context.pid}`);
    }
    switch (st) {
      case "zombie":
        count("zombies", 1);
        // Every zombie has a parent that can reap it (exit_notify / forget_original_parent).
        // A traced zombie whose parent is outside is its tracer's to collect, then released (actors/ptrace.ts).
        if (c.ppid === 0) {
          if (!tracerOf(k, pid)) problem(`zombie ${pid} has no parent in the namespace: nothing can reap it`);
        }
        else if (!CAN_REAP.has(String(k.state(c.ppid)))) problem(`zombie ${pid}: its parent ${c.ppid} is ${k.state(c.ppid) ?? "gone"} and cannot reap it`);
        if (c.threads.size) problem(`zombie ${pid} still has threads ${[...c.threads].join(",")}`);
        if (c.children.size) problem(`zombie ${pid} still has children ${[...c.children].join(",")}: they were not reparented`);
        break;
      case "embryo":
        count("embryos", 1);
        if (!reservedProcs.has(pid)) problem(`process ${pid} is an unclaimed embryo with no reservation: it can never be claimed or expire`);
        break;
      case "running":
        if (c.threads.size === 0) problem(`process ${pid} is running with no thread`);
        break;
      case "native":
        count("native", 1);
        break;
      default:
        problem(`process ${pid} is ${st} but still registered`);
    }
  }

  for (const [tid, t] of k.threads) {
    const snap = t.getSnapshot();
    const pid = snap.context.pid;
    count("threads", 1);
    if (tid !== pid) count("tasks", 1);
    const p = k.ctx(pid);
    if (!p) problem(`thread ${tid}: its process ${pid} does not exist`);
    else if (tid !== pid && !p.threads.has(tid)) problem(`thread ${tid}: not among process ${pid}'s threads, yet its number is held`);
    if (tid !== pid && snap.value === "exited") problem(`thread ${tid} of ${pid} exited but still holds its number`);
    if (snap.value === "embryo" && tid !== pid && !reservedThreads.has(tid)) problem(`thread ${tid} of ${pid} is unclaimed with no reservation`);
  }

  // struct pid refcounts: a number is held by each process whose group or session it names.
  for (const [n, refs] of k.pidRefs) {
    count("pidRefs", 1);
    if (wantRefs.get(n) !== refs) problem(`number ${n} is referenced ${refs} times, but ${wantRefs.get(n) ?? 0} processes use it as group or session`);
  }
  for (const [n, refs] of wantRefs) if (!k.pidRefs.has(n)) problem(`number ${n} is the group or session of ${refs} processes but holds no reference`);

  // … and nothing else: no member of another group, no process that is gone, no empty group.
  for (const [pgid, members] of k.pgrps) {
    if (members.size === 0) problem(`process group ${pgid} is indexed with no member`);
    for (const m of members) if (k.ctx(m)?.pgid !== pgid) problem(`process group ${pgid} lists ${m}, whose group is ${k.ctx(m)?.pgid ?? "none: it is gone"}`);
  }

  if (k.tasks !== counts.tasks) problem(`the namespace counts ${k.tasks} tasks, the registry holds ${counts.tasks}`);

  for (const [pid, q] of k.childWait) {
    count("waiters", q.size);
    if (!k.procs.has(pid)) problem(`a wait queue remains for process ${pid}, which is gone`);
  }

  // Daemon descriptors and files: a table only for a process that can hold files (exit_files
  // empties it at death, exec into native code too), and references that add up (f_count is
  // at least the descriptors naming the file; with no call in flight, exactly that).
  const files = new Map<object, { refs: number; descs: number; id: number }>();
  count("descriptors", 0);
  for (const [pid, t] of k.files.tableEntries()) {
    const st = k.state(pid);
    if (t.size && st !== "running" && st !== "embryo") problem(`process ${pid} is ${st ?? "gone"} but still has ${t.size} daemon descriptors`);
    count("descriptors", t.size);
    for (const d of t.fds.values()) {
      const f = files.get(d.file) ?? { refs: d.file.refs, descs: 0, id: d.file.id };
      f.descs++;
      files.set(d.file, f);
    }
  }
  counts.files = k.files.open;
  for (const f of files.values()) if (f.refs < f.descs) problem(`file ${f.id} has ${f.refs} references but ${f.descs} descriptors name it`);
  if (files.size > k.files.open) problem(`${files.size} files are named by descriptors, but the namespace counts ${k.files.open} open`);
  // Exactness needs no call in flight; the server's check (which knows the parked calls) asks for it.
  counts.filesUnnamed = k.files.open - files.size;
  counts.fileRefsBeyondDescriptors = [...files.values()].reduce((n, f) => n + f.refs - f.descs, 0);

  for (const [name, check] of extra.get(k) ?? []) {
    try {
      check(problem, count, counts);
    } catch (e) {
      problem(`check ${name} failed: ${(e as Error).message}`);
    }
  }
  return { ok: problems.length === 0, problems, counts };
}
