/**
 * Linux's numbers for the names a scenario may write (x86-64): wait options, waitid's
 * idtypes and si_codes, signals, SA_* flags, prctl options. One table each, used both to
 * parse a scenario and to print a trace.
 */

export const WAIT_FLAGS: Record<string, number> = {
  WNOHANG: 0x1,
  WUNTRACED: 0x2,
  WSTOPPED: 0x2,
  WEXITED: 0x4,
  WCONTINUED: 0x8,
  WNOWAIT: 0x01000000,
  __WNOTHREAD: 0x20000000,
  __WALL: 0x40000000,
  __WCLONE: 0x80000000 | 0,
};

export const SA_FLAGS: Record<string, number> = {
  SA_NOCLDSTOP: 0x1,
  SA_NOCLDWAIT: 0x2,
  SA_SIGINFO: 0x4,
  SA_ONSTACK: 0x08000000,
  SA_RESTART: 0x10000000,
  SA_NODEFER: 0x40000000,
  SA_RESETHAND: 0x80000000 | 0,
};

export const IDTYPES: Record<string, number> = { P_ALL: 0, P_PID: 1, P_PGID: 2, P_PIDFD: 3 };

export const CLD_CODES: Record<number, string> = { 1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED", 5: "CLD_STOPPED", 6: "CLD_CONTINUED" };

export const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19,
  SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

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
export function showStatus(s: number): string {
  if ((s & 0x7f) === 0) return `exited(${(s >> 8) & 0xff})`;
  if ((s & 0xff) === 0x7f) return `stopped(${(s >> 8) & 0xff})`;
  if (s === 0xffff) return "continued";
  return `killed(${s & 0x7f}${s & 0x80 ? ",core" : ""})`;
}

/** si_code values of signals sent by a process or the kernel (siginfo.h). */
export const SI_CODES: Record<number, string> = { 0: "SI_USER", 0x80: "SI_KERNEL", [-1]: "SI_QUEUE", [-6]: "SI_TKILL" };

/**
 * A sender's or child's uid as a trace prints it: `UID` for the user the scenario runs as
 * (both sides run their processes as the runner's user), so that a trace does not depend on
 * who ran it; any other uid (one a setresuid step set) as its number. The callers print the
 * kernel's or an outside sender's uid (si_pid 0) as its number.
 */
export function showUid(uid: number): string {
  return uid === (process.getuid?.() ?? 0) ? "UID" : String(uid);
}
