/**
 * The step vocabulary of scenario files: every step a process can take, in one table.
 * Adding a step is one entry here, one case in linux-agent.c and one in agent.ts (see
 * spec/scenarios.md, "Adding a step").
 *
 * An entry parses the words after the step's name (process names stay names until the
 * step runs, so that a name can stand for a pid on either side), and says how the step
 * is sent to an agent, how its reply prints, and what the coordinator must wait for
 * after it (a process's death, for instance) so that the next step starts from a
 * settled state.
 */
import { errnoName } from "../protocol/errno.js";
import { CLD_CODES, IDTYPES, SA_FLAGS, SIGNALS, WAIT_FLAGS, parseFlags, showFlags, showStatus, signalName } from "./names.js";

/** What a step needs from the run: pids of named processes. */
export interface Env {
  pidOf(name: string): number;
}

/** An agent's reply: the call's result, errno when it is negative, and extra numbers. */
export interface Reply {
  readonly result: number;
  readonly errno: number;
  readonly extra: readonly number[];
}

/** After a step, what the coordinator waits for before the next one. */
export type Settle = { readonly kind: "dead" | "stopped" | "running"; readonly who: string | "self" };

export interface Parsed {
  /** The agent command (op and numeric arguments), built when the step runs. */
  command(env: Env): (string | number)[];
  /** The call as the trace shows it, e.g. `wait4(-1, WNOHANG)`. */
  show(env: Env): string;
  /** The reply as the trace shows it after " = ". */
  format(r: Reply): string;
  /** fork: the name of the new process. */
  readonly creates?: string;
  /** For a step that may block: its x86-64 syscall number (to see it blocked on Linux). */
  readonly syscall?: number;
  /** Protocol calls the blinkd side needs for this step. */
  readonly needs?: readonly string[];
  /** sigaction: the disposition it gives the caller (the coordinator tracks them for kill's settle). */
  readonly disposition?: { readonly sig: number; readonly disp: "dfl" | "ign" | "handler" };
  /** What to wait for once the step returned (see Settle); computed from the run's state. */
  settle?(env: Env, facts: Facts): Settle | undefined;
}

/** What the coordinator knows of each process's signal dispositions (from the sigaction steps it ran). */
export interface Facts {
  /** "dfl" | "ign" | "handler" for signal `sig` of process `name`. */
  disposition(name: string, sig: number): "dfl" | "ign" | "handler";
  /** The name of the process with this pid, if it is one the scenario made. */
  nameOf(pid: number): string | undefined;
}

export interface StepDef {
  /** How it is written, for errors and the docs. */
  readonly usage: string;
  readonly doc: string;
  parse(args: string[]): Parsed | string;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** A pid argument: a number, a process name (its pid), or -name (minus its pid: a group). */
type PidArg = { readonly n: number } | { readonly name: string; readonly neg: boolean };

function pidArg(w: string | undefined, what: string): PidArg | string {
  if (w === undefined) return `missing ${what}`;
  if (/^-?\d+$/.test(w)) return { n: Number(w) | 0 };
  const neg = w.startsWith("-");
  const name = neg ? w.slice(1) : w;
  if (!NAME.test(name)) return `${what}: expected a number or a process name, got ${JSON.stringify(w)}`;
  return { name, neg };
}

const resolve = (p: PidArg, env: Env): number => ("n" in p ? p.n : p.neg ? -env.pidOf(p.name) : env.pidOf(p.name));

function intArg(w: string | undefined, what: string): number | string {
  if (w === undefined) return `missing ${what}`;
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(w)) return `${what}: expected a number, got ${JSON.stringify(w)}`;
  return Number(w) | 0;
}

function sigArg(w: string | undefined): number | string {
  if (w === undefined) return "missing signal";
  if (w in SIGNALS) return SIGNALS[w]!;
  if (/^\d+$/.test(w)) return Number(w);
  return `unknown signal ${JSON.stringify(w)} (SIGTERM, SIGUSR1, … or a number)`;
}

const err = (r: Reply): string => `-1 ${errnoName(r.errno)}`;
const plainResult = (r: Reply): string => (r.result < 0 ? err(r) : String(r.result));

function arity(args: string[], min: number, max: number, usage: string): string | undefined {
  if (args.length < min || args.length > max) return `expected ${usage}`;
  return undefined;
}

/** Default actions (signal(7)): which signals stop, which are ignored; the rest terminate. */
const STOPS = new Set([19, 20, 21, 22]);
const IGNORED_BY_DEFAULT = new Set([17, 23, 28]);

function waitLike(call: string, usage: string, fixed?: [string, string]): StepDef {
  return {
    usage,
    doc: `${call}(2): ${fixed ? "wait4(-1, 0)" : "PID is -1 (any child), 0 (the caller's group), a name or number (that child), -name or -number (that group)"}; OPTIONS are WNOHANG|WUNTRACED|WCONTINUED|__WALL|__WCLONE|__WNOTHREAD or 0. Prints the pid and the status.`,
    parse(args) {
      const a = fixed ?? args;
      const bad = fixed ? arity(args, 0, 0, usage) : arity(args, 1, 2, usage);
      if (bad) return bad;
      const pid = pidArg(a[0], "PID");
      if (typeof pid === "string") return pid;
      const options = parseFlags(a[1] ?? "0", WAIT_FLAGS);
      if (typeof options === "string") return options;
      return {
        syscall: 61,
        command: (env) => ["wait4", resolve(pid, env), options],
        show: (env) => (fixed ? `${call}()` : `${call}(${resolve(pid, env)}, ${showFlags(options, WAIT_FLAGS)})`),
        format: (r) => (r.result < 0 ? err(r) : r.result === 0 ? "0" : `${r.result} ${showStatus(r.extra[0] ?? 0)}`),
      };
    },
  };
}

/** The vocabulary. Keys are the words a step starts with. */
export const STEPS: Record<string, StepDef> = {
  fork: {
    usage: "fork NAME",
    doc: "fork(2): a child process called NAME (its steps are the lines starting `NAME:`). Prints the child's pid.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const name = args[0]!;
      if (!NAME.test(name)) return `fork: a process name is lower case letters, digits and _, got ${JSON.stringify(name)}`;
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
  wait4: waitLike("wait4", "wait4 PID OPTIONS"),
  waitpid: waitLike("waitpid", "waitpid PID OPTIONS"),
  wait: waitLike("wait", "wait", ["-1", "0"]),
  waitid: {
    usage: "waitid IDTYPE ID OPTIONS",
    doc: "waitid(2): IDTYPE P_ALL, P_PID or P_PGID (or a number); ID a number, a name or 0; OPTIONS WEXITED|WSTOPPED|WCONTINUED|WNOHANG|WNOWAIT|__WALL|__WCLONE|__WNOTHREAD. Prints the result and the siginfo fields.",
    parse(args) {
      const bad = arity(args, 3, 3, this.usage);
      if (bad) return bad;
      const idtype = parseFlags(args[0]!, IDTYPES);
      if (typeof idtype === "string") return idtype;
      const id = pidArg(args[1], "ID");
      if (typeof id === "string") return id;
      const options = parseFlags(args[2]!, WAIT_FLAGS);
      if (typeof options === "string") return options;
      const idName = Object.keys(IDTYPES).find((k) => IDTYPES[k] === idtype) ?? String(idtype);
      return {
        syscall: 247,
        command: (env) => ["waitid", idtype, resolve(id, env), options],
        show: (env) => `waitid(${idName}, ${resolve(id, env)}, ${showFlags(options, WAIT_FLAGS)})`,
        format: (r) => {
          if (r.result < 0) return err(r);
          const [pid, uid, signo, status, code] = r.extra as number[];
          // si_status is the exit code for CLD_EXITED, a signal number otherwise.
          const st = code === 1 || code === 0 ? String(status) : signalName(status!);
          return `0 {si_pid ${pid}, si_uid ${uid}, si_signo ${signo ? signalName(signo) : 0}, si_code ${CLD_CODES[code!] ?? code}, si_status ${st}}`;
        },
      };
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
};

export { NAME as PROCESS_NAME };
