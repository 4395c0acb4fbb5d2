import { family } from "../schema.js";

/** Signals: what the guest reports of its dispositions, and (later) kill and delivery. */
export const signal = family({
  rt_sigaction: {
    nr: 70,
    args: { signo: "i32", handler: "u32", flags: "u32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "The guest changed a disposition: handler 0 = SIG_DFL, 1 = SIG_IGN, 2 = a handler; flags are the SA_* bits (SA_NOCLDSTOP, SA_NOCLDWAIT, SA_RESTART, …). The daemon applies the rules that depend on them (auto-reap, init's protections).",
  },
});
