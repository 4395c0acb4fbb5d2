/** Process groups and sessions: setpgid, getpgid, getpgrp, setsid, getsid. */
import { type StepDef, arity, pidArg, resolve, plainResult } from "./common.js";

export const GROUP_STEPS: Record<string, StepDef> = {
  setpgid: {
    usage: "setpgid PID PGID",
    doc: "setpgid(2); PID and PGID are numbers or names (0: the caller).",
    parse(args) {
      const bad = arity(args, 2, 2, this.usage);
      if (bad) return bad;
      const pid = pidArg(args[0], "PID");
      if (typeof pid === "string") return pid;
      const pgid = pidArg(args[1], "PGID");
      if (typeof pgid === "string") return pgid;
      return {
        command: (env) => ["setpgid", resolve(pid, env), resolve(pgid, env)],
        show: (env) => `setpgid(${resolve(pid, env)}, ${resolve(pgid, env)})`,
        format: plainResult,
      };
    },
  },
  getpgid: {
    usage: "getpgid PID",
    doc: "getpgid(2): 0 for a group outside the namespace.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const pid = pidArg(args[0], "PID");
      if (typeof pid === "string") return pid;
      return { command: (env) => ["getpgid", resolve(pid, env)], show: (env) => `getpgid(${resolve(pid, env)})`, format: plainResult };
    },
  },
  setsid: {
    usage: "setsid",
    doc: "setsid(2).",
    parse: (args) => arity(args, 0, 0, "setsid") ?? { command: () => ["setsid"], show: () => "setsid()", format: plainResult },
  },
  getsid: {
    usage: "getsid PID",
    doc: "getsid(2): 0 for a session outside the namespace.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const pid = pidArg(args[0], "PID");
      if (typeof pid === "string") return pid;
      return { command: (env) => ["getsid", resolve(pid, env)], show: (env) => `getsid(${resolve(pid, env)})`, format: plainResult };
    },
  },
  getpgrp: {
    usage: "getpgrp",
    doc: "getpgrp(2): 0 for a group outside the namespace.",
    parse: (args) => arity(args, 0, 0, "getpgrp") ?? { command: () => ["getpgrp"], show: () => "getpgrp()", format: plainResult },
  },
};
