/**
 * Linux's numbers for the names a scenario may write (x86-64): wait options, waitid's
 * idtypes and si_codes, signals, SA_* flags, prctl options. One table each, used both to
 * parse a scenario and to print a trace, made from the protocol's declarations
 * (src/protocol/linux/).
 */
import { SA, SI, SIG } from "../protocol/linux/signals.js";
import { IDTYPE, WAIT, describeStatus } from "../protocol/linux/wait.js";

export const WAIT_FLAGS: Record<string, number> = WAIT;

/** SA_* by their C names (SA_RESETHAND as the i32 it is on the wire). */
export const SA_FLAGS: Record<string, number> = Object.fromEntries(Object.entries(SA).map(([k, v]) => [`SA_${k}`, v | 0]));

export const IDTYPES: Record<string, number> = IDTYPE;

export const CLD_CODES: Record<number, string> = Object.fromEntries(Object.entries(SI).filter(([k]) => k.startsWith("CLD_")).map(([k, v]) => [v, k]));

export const SIGNALS: Record<string, number> = SIG;

const sigNames = new Map(Object.entries(SIGNALS).map(([k, v]) => [v, k]));

export function signalName(n: number): string {
  return sigNames.get(n) ?? (n === 0 ? "0" : String(n));
}

/** Parses `A|B|0x10` against a table; undefined names an unknown word. */
export function parseFlags(word: string, table: Record<string, number>): number | string {
  let v = 0;
  for (const part of word.split("|")) {
    if (part in table) v |= table[part]!;
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(part)) v |= Number(part);
    else return `unknown flag ${JSON.stringify(part)} (expected ${Object.keys(table).join(", ")} or a number)`;
  }
  return v | 0;
}

/** Prints flags by name in the table's order (aliases once), leftover bits in hex. */
export function showFlags(v: number, table: Record<string, number>): string {
  if (v === 0) return "0";
  const parts: string[] = [];
  let rest = v >>> 0;
  const seen = new Set<number>();
  for (const [name, bit] of Object.entries(table)) {
    const b = bit >>> 0;
    if (seen.has(b)) continue;
    seen.add(b);
    if (((rest & b) >>> 0) === b && b !== 0) {
      parts.push(name);
      rest = (rest & ~b) >>> 0;
    }
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join("|");
}

/** Linux's wait status word, as the conformance traces print it. */
export const showStatus = describeStatus;

/** si_code values of signals sent by a process or the kernel (siginfo.h). */
export const SI_CODES: Record<number, string> = Object.fromEntries(Object.entries(SI).filter(([k]) => !k.startsWith("CLD_")).map(([k, v]) => [v, `SI_${k}`]));

/**
 * A sender's or child's uid as a trace prints it: `UID` for the user the scenario runs as
 * (both sides run their processes as the runner's user), so that a trace does not depend on
 * who ran it; any other uid (one a setresuid step set) as its number. The callers print the
 * kernel's or an outside sender's uid (si_pid 0) as its number.
 */
export function showUid(uid: number): string {
  return uid === (process.getuid?.() ?? 0) ? "UID" : String(uid);
}
