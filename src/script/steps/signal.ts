/** Signal steps: dispositions and kill. */
import { SA_FLAGS, parseFlags, showFlags, signalName } from "../names.js";
import { type StepDef, arity, pidArg, resolve, plainResult, sigArg } from "./common.js";

/** Default actions (signal(7)): which signals stop, which are ignored; the rest terminate. */
const STOPS = new Set([19, 20, 21, 22]);
const IGNORED_BY_DEFAULT = new Set([17, 23, 28]);

export const SIGNAL_STEPS: Record<string, StepDef> = {
  sigaction: {
    usage: "sigaction SIGNAL SIG_DFL|SIG_IGN|handler [SA_FLAGS]",
    doc: "sigaction(2): the default action, ignore, or a handler that does nothing (so a blocked call it interrupts fails with EINTR, or restarts with SA_RESTART); SA_FLAGS e.g. SA_NOCLDWAIT|SA_RESTART.",
    parse(args) {
      const bad = arity(args, 2, 3, this.usage);
      if (bad) return bad;
      const sig = sigArg(args[0]);
      if (typeof sig === "string") return sig;
      const disp = { SIG_DFL: 0, SIG_IGN: 1, handler: 2 }[args[1]!];
      if (disp === undefined) return `sigaction: expected SIG_DFL, SIG_IGN or handler, got ${JSON.stringify(args[1])}`;
      const flags = parseFlags(args[2] ?? "0", SA_FLAGS);
      if (typeof flags === "string") return flags;
      return {
        command: () => ["sigaction", sig, disp, flags],
        show: () => `sigaction(${signalName(sig)}, ${args[1]}, ${showFlags(flags, SA_FLAGS)})`,
        format: plainResult,
        disposition: { sig, disp: (["dfl", "ign", "handler"] as const)[disp]! },
      };
    },
  },
  kill: {
    usage: "kill PID SIGNAL",
    doc: "kill(2). When PID names one process and the signal's effect is to end or stop it, the next step starts once it has.",
    parse(args) {
      const bad = arity(args, 2, 2, this.usage);
      if (bad) return bad;
      const pid = pidArg(args[0], "PID");
      if (typeof pid === "string") return pid;
      const sig = sigArg(args[1]);
      if (typeof sig === "string") return sig;
      return {
        command: (env) => ["kill", resolve(pid, env), sig],
        show: (env) => `kill(${resolve(pid, env)}, ${signalName(sig)})`,
        format: plainResult,
        settle(env, facts) {
          const target = resolve(pid, env);
          const who = target > 0 ? facts.nameOf(target) : undefined;
          // Only a signal to one process of the scenario; init ignores every signal it has no handler for.
          if (!who || target === 1 || sig === 0) return undefined;
          if (sig === 9) return { kind: "dead", who };
          if (sig === 19) return { kind: "stopped", who };
          const d = facts.disposition(who, sig);
          if (d !== "dfl") return undefined;
          if (sig === 18) return { kind: "running", who };
          if (STOPS.has(sig)) return { kind: "stopped", who };
          if (IGNORED_BY_DEFAULT.has(sig)) return undefined;
          return { kind: "dead", who };
        },
      };
    },
  },
};
