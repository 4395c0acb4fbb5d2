/** Process steps: fork, exit, exec, getpid, getppid, the child subreaper attribute, credentials. */
import { type StepDef, NAME, arity, intArg, err, plainResult } from "./common.js";

export const PROCESS_STEPS: Record<string, StepDef> = {
  fork: {
    usage: "fork NAME",
    doc: "fork(2): a child process called NAME (its steps are the lines starting `NAME:`). Prints the child's pid.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const name = args[0]!;
      if (!NAME.test(name)) return `a process name is lower case letters, digits and _, got ${JSON.stringify(name)}`;
      return { creates: name, command: () => ["fork", name], show: () => "fork()", format: plainResult };
    },
  },
  exit: {
    usage: "exit CODE",
    doc: "_exit(2) (exit_group): the process ends with CODE. The next step starts once the process is a zombie (or gone, if auto-reaped).",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const code = intArg(args[0], "CODE");
      if (typeof code === "string") return code;
      return { command: () => ["exit", code], show: () => `exit(${code})`, format: () => "", settle: () => ({ kind: "dead", who: "self" }) };
    },
  },
  getpid: {
    usage: "getpid",
    doc: "getpid(2).",
    parse: (args) => arity(args, 0, 0, "getpid") ?? { command: () => ["getpid"], show: () => "getpid()", format: plainResult },
  },
  getppid: {
    usage: "getppid",
    doc: "getppid(2): 0 when the parent is outside the namespace.",
    parse: (args) => arity(args, 0, 0, "getppid") ?? { command: () => ["getppid"], show: () => "getppid()", format: plainResult },
  },
  prctl: {
    usage: "prctl PR_SET_CHILD_SUBREAPER VALUE | prctl PR_GET_CHILD_SUBREAPER",
    doc: "prctl(2) for the child subreaper attribute: set it (VALUE != 0) or clear it (0); get prints the stored value.",
    parse(args) {
      if (args[0] === "PR_SET_CHILD_SUBREAPER") {
        const bad = arity(args, 2, 2, this.usage);
        if (bad) return bad;
        const v = intArg(args[1], "VALUE");
        if (typeof v === "string") return v;
        return { command: () => ["setsub", v], show: () => `prctl(PR_SET_CHILD_SUBREAPER, ${v})`, format: plainResult };
      }
      if (args[0] === "PR_GET_CHILD_SUBREAPER") {
        const bad = arity(args, 1, 1, this.usage);
        if (bad) return bad;
        return {
          command: () => ["getsub"],
          show: () => "prctl(PR_GET_CHILD_SUBREAPER, &v)",
          format: (r) => (r.result < 0 ? err(r) : `${r.result}, v = ${r.extra[0]}`),
        };
      }
      return `expected ${this.usage}`;
    },
  },
  exec: {
    usage: "exec",
    doc: "execve(2) of the agent itself: the same pid, parent, group and mask; handled signals go back to SIG_DFL (ignored ones stay ignored); setpgid on it from its parent fails with EACCES from now on.",
    parse: (args) =>
      arity(args, 0, 0, "exec") ?? {
        command: () => ["exec"],
        show: () => "execve()",
        format: plainResult,
        update: (st, r) => {
          // flush_signal_handlers (kernel/signal.c): a handler becomes SIG_DFL; SIG_IGN stays.
          if (r.result === 0) for (const [sig, d] of st.disp) if (d === "handler" || d === "exit") st.disp.set(sig, "dfl");
        },
      },
  },
  setresuid: {
    usage: "setresuid RUID EUID SUID",
    doc: "setresuid(2); -1 keeps an id. The ids decide kill's permission.",
    parse(args) {
      const bad = arity(args, 3, 3, this.usage);
      if (bad) return bad;
      const ids: number[] = [];
      for (const [i, what] of ["RUID", "EUID", "SUID"].entries()) {
        const v = intArg(args[i], what);
        if (typeof v === "string") return v;
        ids.push(v);
      }
      return {
        command: () => ["setresuid", ...ids],
        show: () => `setresuid(${ids.join(", ")})`,
        format: plainResult,
        update: (st, r) => {
          if (r.result !== 0) return;
          if (ids[0] !== -1) st.creds.ruid = ids[0]!;
          if (ids[1] !== -1) st.creds.euid = ids[1]!;
          if (ids[2] !== -1) st.creds.suid = ids[2]!;
        },
      };
    },
  },
};
