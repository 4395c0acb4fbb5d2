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
    doc: "Actor snapshots: for pid > 0 that process, its threads, parked calls and descriptors; for pid 0 the namespace and every process. Each is a map {id, kind, state, context, parked, fds}. ESRCH for a pid that is not in the namespace.",
  },
  events: {
    nr: 1003,
    args: { pid: "i32", follow: "bool" },
    out: { events: "any" },
    blocks: true,
    role: "control",
    doc: "The recent actor transitions and calls (pid > 0: of that process only). Without follow: returns them in out.events. With follow: sends them, then every new one, as event messages [3, 2, record] until interrupted; a reader too slow to keep up gets a record {kind: 'lost', count}.",
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
