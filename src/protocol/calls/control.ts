import { family } from "../schema.js";

/** Read-only calls for inspection tools; a control connection can make no guest call. */
export const control = family({
  ps: {
    nr: 1000,
    args: {},
    out: { procs: "any" },
    blocks: false,
    role: "control",
    doc: "Every process of the namespace: an array of maps {pid, ppid, pgid, sid, state, stat, threads, comm, exe, argv, hostpid, wstatus, startTime}.",
  },
  procfs_snapshot: {
    nr: 1001,
    args: {},
    out: { nodes: "any" },
    blocks: false,
    role: "control",
    doc: "The whole /proc tree of the namespace at one instant: an array of [path, kind, payload], parents first; kind 0 a file (payload bin), 1 a symbolic link (payload its target), 2 a directory (payload nil).",
  },
  inspect: {
    nr: 1002,
    args: { pid: "i32" },
    out: { actors: "any" },
    blocks: false,
    role: "control",
    doc: "Actor snapshots: for pid > 0 that process, its threads, parked calls (each {seq, call, args}) and descriptors; for pid 0 the namespace (with seq, the last events record the snapshot includes), every process, and every open eventfd (kind 'eventfd', with holders [{pid, fd, cloexec}], waiters and flags). Each is a map {id, kind, state, context, parked, fds}. ESRCH for a pid that is not in the namespace.",
  },
  events: {
    nr: 1003,
    args: { pid: "i32", follow: "bool" },
    out: { events: "any" },
    blocks: true,
    role: "control",
    doc: "The recent actor transitions and calls (pid > 0: of that process only), each a map {seq, t, kind, actor, pid, event, from, to, args, result, changes, req}: changes is a spawned actor's context or the context fields an event changed (as inspect names them), req a call's and its reply's request seq. Without follow: returns them in out.events. With follow: sends them, then every new one, as event messages [3, 2, record] until interrupted; a reader too slow to keep up gets a record {kind: 'lost', count}.",
  },
  check: {
    nr: 1090,
    args: {},
    out: { report: "any" },
    blocks: false,
    role: "control",
    doc: "The consistency checker: every invariant between the namespace's actors, connections and objects (no leaked pid, actor, descriptor or object; every zombie reapable; memory near its start). Returns the number of problems; out.report is {ok, problems: [sentence], counts: {kind: n}}.",
  },
});
