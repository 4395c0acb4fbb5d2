/**
 * Signal steps: dispositions, kill and its relatives, the mask, pending signals, and
 * awaiting a handler's run (with its siginfo).
 */
import { CLD_CODES, SA_FLAGS, SI_CODES, parseFlags, showFlags, showUid, signalName } from "../names.js";
import { SIG } from "../../protocol/linux/signals.js";
import { SIGACTION } from "../../protocol/calls/signal.js";
import { type Facts, type Parsed, type Reply, type Settle, type SigState, type StepDef, arity, err, intArg, pidArg, plainResult, resolve, sigArg } from "./common.js";

/** Default actions (signal(7)): which signals stop, which are ignored; the rest terminate. */
const STOPS = new Set([19, 20, 21, 22]);
const IGNORED_BY_DEFAULT = new Set([17, 23, 28]);

/**
 * What an accepted signal does to one target, as far as the next step must wait for it:
 * its death, its stop, its continuing; undefined when nothing is to be waited for
 * (handled, ignored, blocked, a probe).
 */
function effect(sig: number, who: string, facts: Facts): Settle | undefined {
  const state = facts.state(who);
  if (sig === 0 || state === "dead") return undefined;
  const d = facts.disposition(who, sig);
  const blocked = sig !== 9 && sig !== 19 && facts.blocked(who, sig);
  // Init (sig_task_ignored with SIGNAL_UNKILLABLE, kernel/signal.c): from inside its
  // namespace it gets only the signals it has a handler for; SIGKILL and SIGSTOP never.
  if (who === "init") return d === "exit" && !blocked && sig !== 9 && sig !== 19 && state !== "stopped" ? { kind: "dead", who } : undefined;
  if (sig === 9) return { kind: "dead", who };
  // prepare_signal: SIGCONT resumes a stopped process whatever its disposition or mask.
  if (sig === 18) return { kind: "running", who };
  if (sig === 19) return { kind: "stopped", who };
  if (blocked) return undefined;
  // complete_signal → wants_signal: a stopped process takes no signal but SIGKILL (and
  // SIGCONT, above); the rest stay pending until it continues.
  if (state === "stopped") return undefined;
  if (d === "exit") return { kind: "dead", who };
  if (d !== "dfl" || IGNORED_BY_DEFAULT.has(sig)) return undefined;
  // The terminal stops (SIGTSTP, SIGTTIN, SIGTTOU) stop the target unless its group is
  // orphaned, when get_signal drops them ("is_current_pgrp_orphaned"): nothing to wait for
  // here; a scenario follows them with a blocking wait4 WUNTRACED, or a step of the target.
  if (STOPS.has(sig)) return undefined;
  return { kind: "dead", who };
}

/** The scenario's processes a kill(2) with this pid reaches (kill_something_info). */
function targets(pid: number, caller: string, facts: Facts): string[] {
  if (pid > 0) {
    const n = facts.nameOf(pid);
    return n ? [n] : [];
  }
  // kill(-1): every process but init and the caller.
  if (pid === -1) return facts.live().filter((n) => n !== "init" && n !== caller);
  const leader = pid === 0 ? caller : facts.nameOf(-pid);
  const g = leader === undefined ? undefined : facts.pgid(leader);
  if (g === undefined) return [];
  return facts.live().filter((n) => facts.pgid(n) === g);
}

/**
 * Whether `caller` may signal `who` (check_kill_permission): the same process, or
 * kill_ok_by_cred (the sender's real or effective uid is the target's real or saved uid,
 * or the sender has CAP_KILL: euid 0, as setresuid(2) clears the effective capabilities
 * otherwise), or SIGCONT within the caller's session. A group or kill(-1) succeeds when
 * any target allowed it; the refused ones are not signalled and are not waited for.
 */
function permitted(sig: number, caller: string, who: string, facts: Facts): boolean {
  if (who === caller) return true;
  const c = facts.creds(caller);
  const t = facts.creds(who);
  if (c.euid === 0 || c.euid === t.suid || c.euid === t.ruid || c.ruid === t.suid || c.ruid === t.ruid) return true;
  return sig === 18 && facts.sid(who) !== undefined && facts.sid(who) === facts.sid(caller);
}

function settleKill(pid: number, sig: number, caller: string, facts: Facts, r: Reply): Settle[] | undefined {
  if (r.result < 0) return undefined;
  return targets(pid, caller, facts)
    .filter((n) => permitted(sig, caller, n, facts))
    .map((n) => effect(sig, n, facts))
    .filter((s): s is Settle => s !== undefined);
}

/** A set of signals written `SIGUSR1|SIGTERM`. */
function sigSet(w: string | undefined): number[] | string {
  if (w === undefined) return "missing SIGNALS";
  const out: number[] = [];
  for (const part of w.split("|")) {
    const s = sigArg(part);
    if (typeof s === "string") return s;
    if (s < 1 || s > 64) return `a signal between 1 and 64, got ${part}`;
    out.push(s);
  }
  return out;
}

const showSet = (sigs: readonly number[]): string => `{${sigs.map(signalName).join(", ")}}`;

/** The signals of a 64-bit set given as its low and high 32 bits. */
function setOf(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((lo >>> i) & 1) out.push(i + 1);
  for (let i = 0; i < 32; i++) if ((hi >>> i) & 1) out.push(i + 33);
  return out;
}

/** siginfo as a handler saw it: si_status only for SIGCHLD (the rest of the union is 0). */
export function showSiginfo(signo: number, pid: number, code: number, uid: number, status: number): string {
  const codeName = signo === SIG.SIGCHLD && code > 0 ? (CLD_CODES[code] ?? String(code)) : (SI_CODES[code] ?? String(code));
  const base = `{si_signo ${signalName(signo)}, si_code ${codeName}, si_pid ${pid}, si_uid ${pid ? showUid(uid) : uid}`;
  if (signo !== SIG.SIGCHLD) return base + "}";
  return `${base}, si_status ${code === 1 ? String(status) : signalName(status)}}`;
}

function killLike(name: "kill" | "tkill", usage: string, doc: string): StepDef {
  return {
    usage,
    doc,
    parse(args) {
      const bad = arity(args, 2, 2, usage);
      if (bad) return bad;
      const pid = pidArg(args[0], name === "kill" ? "PID" : "TID");
      if (typeof pid === "string") return pid;
      const sig = sigArg(args[1]);
      if (typeof sig === "string") return sig;
      return {
        command: (env) => [name, resolve(pid, env), sig],
        show: (env) => `${name}(${resolve(pid, env)}, ${signalName(sig)})`,
        format: plainResult,
        settle: (env, facts, caller, r) => {
          const p = resolve(pid, env);
          // tkill reaches one thread; a tid <= 0 is EINVAL.
          return name === "tkill" && p <= 0 ? undefined : settleKill(p, sig, caller, facts, r);
        },
      };
    },
  };
}

export const SIGNAL_STEPS: Record<string, StepDef> = {
  sigaction: {
    usage: "sigaction SIGNAL SIG_DFL|SIG_IGN|handler|exit:CODE [SA_FLAGS]",
    doc: "sigaction(2): the default action, ignore, a handler that records the signal (see await) and returns, or a handler that calls _exit(CODE).",
    parse(args) {
      const bad = arity(args, 2, 3, this.usage);
      if (bad) return bad;
      const sig = sigArg(args[0]);
      if (typeof sig === "string") return sig;
      let disp = ({ SIG_DFL: SIGACTION.SIG_DFL, SIG_IGN: SIGACTION.SIG_IGN, handler: SIGACTION.HANDLER } as Record<string, number>)[args[1]!];
      let code = 0;
      const ex = /^exit:(\d+)$/.exec(args[1]!);
      if (ex) {
        disp = 3;
        code = Number(ex[1]) & 0xff;
      }
      if (disp === undefined) return `expected SIG_DFL, SIG_IGN, handler or exit:CODE, got ${JSON.stringify(args[1])}`;
      const flags = parseFlags(args[2] ?? "0", SA_FLAGS);
      if (typeof flags === "string") return flags;
      const kind = (["dfl", "ign", "handler", "exit"] as const)[disp]!;
      return {
        command: () => ["sigaction", sig, disp, flags, code],
        show: () => `sigaction(${signalName(sig)}, ${args[1]}, ${showFlags(flags, SA_FLAGS)})`,
        format: plainResult,
        update: (st, r) => {
          if (r.result !== 0) return;
          st.disp.set(sig, kind);
          st.flags.set(sig, flags);
        },
      };
    },
  },
  kill: killLike(
    "kill",
    "kill PID SIGNAL",
    "kill(2). PID a number, a name, -name (that group), 0 or -1. The next step starts once every process of the scenario it reaches has ended, stopped or continued, when that is the signal's effect.",
  ),
  tkill: killLike("tkill", "tkill TID SIGNAL", "tkill(2) (a process's one thread has its pid as tid); settles as kill."),
  tgkill: {
    usage: "tgkill TGID TID SIGNAL",
    doc: "tgkill(2); settles as kill.",
    parse(args) {
      const bad = arity(args, 3, 3, this.usage);
      if (bad) return bad;
      const tgid = pidArg(args[0], "TGID");
      if (typeof tgid === "string") return tgid;
      const tid = pidArg(args[1], "TID");
      if (typeof tid === "string") return tid;
      const sig = sigArg(args[2]);
      if (typeof sig === "string") return sig;
      return {
        command: (env) => ["tgkill", resolve(tgid, env), resolve(tid, env), sig],
        show: (env) => `tgkill(${resolve(tgid, env)}, ${resolve(tid, env)}, ${signalName(sig)})`,
        format: plainResult,
        settle: (env, facts, caller, r) => {
          const t = resolve(tid, env);
          return t <= 0 || resolve(tgid, env) <= 0 ? undefined : settleKill(t, sig, caller, facts, r);
        },
      };
    },
  },
  block: {
    usage: "block SIGNALS",
    doc: "sigprocmask(SIG_BLOCK): SIGNALS is one signal or several joined by |.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const sigs = sigSet(args[0]);
      if (typeof sigs === "string") return sigs;
      return maskStep(0, sigs);
    },
  },
  unblock: {
    usage: "unblock SIGNALS",
    doc: "sigprocmask(SIG_UNBLOCK): a pending signal it unblocks is delivered before the call returns.",
    parse(args) {
      const bad = arity(args, 1, 1, this.usage);
      if (bad) return bad;
      const sigs = sigSet(args[0]);
      if (typeof sigs === "string") return sigs;
      return maskStep(1, sigs);
    },
  },
  sigpending: {
    usage: "sigpending",
    doc: "sigpending(2): prints the set of pending signals the process blocks.",
    parse: (args) =>
      arity(args, 0, 0, "sigpending") ?? {
        command: () => ["sigpending"],
        show: () => "sigpending()",
        format: (r) => (r.result < 0 ? err(r) : `0 ${showSet(setOf(r.extra[0] ?? 0, r.extra[1] ?? 0))}`),
      },
  },
  await: {
    usage: "await SIGNAL [MS]",
    doc: "Waits until the process's handler (sigaction … handler) has run for SIGNAL (each run is awaited once, in order) and prints the siginfo the handler got: si_signo, si_code, si_pid, si_uid and, for SIGCHLD, si_status. With MS, waits at most MS milliseconds and prints `nothing` when no run came (for a signal some kernels do not send). Not a system call: it cannot take `&`.",
    parse(args) {
      const bad = arity(args, 1, 2, this.usage);
      if (bad) return bad;
      const sig = sigArg(args[0]);
      if (typeof sig === "string") return sig;
      const ms = args[1] === undefined ? undefined : intArg(args[1], "MS");
      if (typeof ms === "string") return ms;
      if (ms !== undefined && (ms < 1 || ms > 60_000)) return `MS: between 1 and 60000, got ${ms}`;
      return {
        command: () => (ms === undefined ? ["await", sig] : ["await", sig, ms]),
        show: () => (ms === undefined ? `await(${signalName(sig)})` : `await(${signalName(sig)}, ${ms} ms)`),
        format: (r) => {
          // EAGAIN: the bound passed with no run of the handler (as sigtimedwait's timeout).
          if (r.result < 0) return ms !== undefined && r.errno === EAGAIN ? "nothing" : err(r);
          const [signo, pid, code, uid, status] = r.extra as number[];
          return showSiginfo(signo!, pid!, code!, uid!, status!);
        },
        update: (st, r) => {
          if (r.result === 0) ranHandler(st, sig);
        },
      };
    },
  },
  handled: {
    usage: "handled",
    doc: "Not a system call: prints the signals whose handler (sigaction … handler) has run and that no `await` or `handled` has taken yet, in the order the handlers ran, and takes them. Deterministic for handlers that ran before an earlier step of the process returned (an `unblock`, a kill of itself).",
    parse: (args) =>
      arity(args, 0, 0, "handled") ?? {
        command: () => ["handled"],
        show: () => "handled()",
        format: (r) => (r.result < 0 ? err(r) : `{${r.extra.map(signalName).join(", ")}}`),
        update: (st, r) => {
          for (const s of r.result < 0 ? [] : r.extra) ranHandler(st, s);
        },
      },
  },
};

const EAGAIN = 11;

/** get_signal: "if (ka->sa.sa_flags & SA_ONESHOT) ka->sa.sa_handler = SIG_DFL" once the handler is chosen. */
function ranHandler(st: SigState, sig: number): void {
  if ((st.flags.get(sig) ?? 0) & SA_FLAGS.SA_RESETHAND!) {
    st.disp.set(sig, "dfl");
    st.flags.set(sig, 0);
  }
}

/** block and unblock: rt_sigprocmask with the set as its low and high 32 bits. */
function maskStep(how: 0 | 1, sigs: readonly number[]): Parsed {
  let lo = 0,
    hi = 0;
  for (const s of sigs) {
    if (s <= 32) lo |= 1 << (s - 1);
    else hi |= 1 << (s - 33);
  }
  return {
    command: () => ["sigmask", how, lo >>> 0, hi >>> 0],
    show: () => `sigprocmask(${how === 0 ? "SIG_BLOCK" : "SIG_UNBLOCK"}, ${showSet(sigs)})`,
    format: plainResult,
    update: (st, r) => {
      if (r.result < 0) return;
      // SIGKILL and SIGSTOP cannot be blocked (sigprocmask(2)).
      for (const s of sigs) if (s !== 9 && s !== 19) how === 0 ? st.blocked.add(s) : st.blocked.delete(s);
    },
  };
}

