/**
 * What every step family shares: the types a step definition is made of, and the
 * argument parsers (pids that may be process names, numbers, signals) and reply printers.
 */
import { errnoName } from "../../protocol/errno.js";
import { SIGNALS } from "../names.js";

/** What a step needs from the run: pids of named processes. */
export interface Env {
  pidOf(name: string): number;
}

/** An agent's reply: the call's result, errno when it is negative, and extra numbers. */
export interface Reply {
  readonly result: number;
  readonly errno: number;
  readonly extra: readonly number[];
  /** The extra words as sent (exact u64 values, which a number cannot hold). */
  readonly words?: readonly string[];
}

/**
 * After a step, what the coordinator waits for before the next one: the process is dead
 * (a zombie or gone), stopped, or running (no longer stopped: a continued process may
 * then die of a signal that was pending while it was stopped).
 */
export type Settle = { readonly kind: "dead" | "stopped" | "running"; readonly who: string | "self" };

/** A disposition as the scenario set it: `exit` is a handler that calls _exit. */
export type Disp = "dfl" | "ign" | "handler" | "exit";

/** What the coordinator tracks of one process from the steps it ran (fork copies it). */
export interface SigState {
  /** Signals whose disposition a step set (the rest are SIG_DFL). */
  readonly disp: Map<number, Disp>;
  /** The SA_* flags of each signal a step set a disposition for (SA_RESETHAND: back to SIG_DFL once its handler ran). */
  readonly flags: Map<number, number>;
  /** Signals the process blocks. */
  readonly blocked: Set<number>;
  /** Its real, effective and saved uid (setresuid), for kill's permission rule. */
  readonly creds: { ruid: number; euid: number; suid: number };
}

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
  /** Updates the caller's tracked signal state once the step returned (sigaction, sigprocmask, exec). */
  update?(st: SigState, r: Reply): void;
  /** What to wait for once the step returned (see Settle); computed from the run's state. */
  settle?(env: Env, facts: Facts, caller: string, r: Reply): Settle | readonly Settle[] | undefined;
}

/** What the coordinator knows of the processes (from the steps it ran, and from the side's kernel). */
export interface Facts {
  /** The disposition of signal `sig` in process `name`. */
  disposition(name: string, sig: number): Disp;
  /** Whether process `name` blocks `sig`. */
  blocked(name: string, sig: number): boolean;
  /** The name of the process with this pid, if it is one the scenario made. */
  nameOf(pid: number): string | undefined;
  /** Every process the scenario made that is not dead (zombie or gone). */
  live(): string[];
  /** What the process is now, as the side's kernel sees it. */
  state(name: string): "dead" | "stopped" | "running";
  /** Its process group as the side's kernel numbers it (only good for comparing). */
  pgid(name: string): number | undefined;
  /** Its session, likewise. */
  sid(name: string): number | undefined;
  /** Its uids as the scenario's setresuid steps left them. */
  creds(name: string): SigState["creds"];
}

export interface StepDef {
  /** How it is written, for errors and the docs. */
  readonly usage: string;
  readonly doc: string;
  parse(args: string[]): Parsed | string;
}

export const NAME = /^[a-z][a-z0-9_]*$/;

/** A pid argument: a number, a process name (its pid), or -name (minus its pid: a group). */
export type PidArg = { readonly n: number } | { readonly name: string; readonly neg: boolean };

export function pidArg(w: string | undefined, what: string): PidArg | string {
  if (w === undefined) return `missing ${what}`;
  if (/^-?\d+$/.test(w)) return { n: Number(w) | 0 };
  const neg = w.startsWith("-");
  const name = neg ? w.slice(1) : w;
  if (!NAME.test(name)) return `${what}: expected a number or a process name, got ${JSON.stringify(w)}`;
  return { name, neg };
}

export const resolve = (p: PidArg, env: Env): number => ("n" in p ? p.n : p.neg ? -env.pidOf(p.name) : env.pidOf(p.name));

export function intArg(w: string | undefined, what: string): number | string {
  if (w === undefined) return `missing ${what}`;
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(w)) return `${what}: expected a number, got ${JSON.stringify(w)}`;
  return Number(w) | 0;
}

export function sigArg(w: string | undefined): number | string {
  if (w === undefined) return "missing signal";
  if (w in SIGNALS) return SIGNALS[w]!;
  if (/^-?\d+$/.test(w)) return Number(w) | 0;
  return `unknown signal ${JSON.stringify(w)} (SIGTERM, SIGUSR1, … or a number)`;
}

export const err = (r: Reply): string => `-1 ${errnoName(r.errno)}`;
export const plainResult = (r: Reply): string => (r.result < 0 ? err(r) : String(r.result));

export function arity(args: string[], min: number, max: number, usage: string): string | undefined {
  if (args.length < min || args.length > max) return `expected ${usage}`;
  return undefined;
}
