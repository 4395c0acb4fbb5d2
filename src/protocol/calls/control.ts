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
});
