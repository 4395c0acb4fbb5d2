import { family } from "../schema.js";

/** Read-only calls for inspection tools; a control connection can make no guest call. */
export const control = family({
  ps: {
    nr: 1000,
    args: {},
    out: { procs: "any" },
    blocks: false,
    role: "control",
    doc: "Every process of the namespace: an array of maps {pid, ppid, pgid, sid, state, threads, comm, exe, argv, hostpid}.",
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
