// Signal numbers, masks and wait statuses as people read them (x86-64 Linux, signal(7), wait.h).

const NAMES = [
  "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
  "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

export function signame(n) {
  if (n > 0 && n < NAMES.length) return "SIG" + NAMES[n];
  if (n === 32 || n === 33) return `SIG${n}`;
  if (n >= 34 && n <= 64) return n === 34 ? "SIGRTMIN" : n === 64 ? "SIGRTMAX" : `SIGRTMIN+${n - 34}`;
  return `signal ${n}`;
}

/** The signals of a mask: bit signo-1, given as "0x…" (how the daemon's views write 64-bit masks) or a number. */
export function maskSignals(mask) {
  if (mask === undefined || mask === null) return [];
  let m;
  try {
    m = BigInt(mask);
  } catch {
    return [];
  }
  const out = [];
  for (let i = 1; i <= 64 && m; i++, m >>= 1n) if (m & 1n) out.push(i);
  return out;
}

export function maskText(mask) {
  const s = maskSignals(mask);
  return s.length ? s.map((n) => signame(n).replace(/^SIG/, "")).join(" ") : "";
}

/** A wait status word as `blinkd` describes it: exited(N), killed(SIGX), stopped(SIGX), continued. */
export function statusText(w) {
  if (w === null || w === undefined) return "";
  if ((w & 0x7f) === 0) return `exited(${(w >> 8) & 0xff})`;
  if (w === 0xffff) return "continued";
  if ((w & 0xff) === 0x7f) return `stopped(${signame((w >> 8) & 0xff)})`;
  return `killed(${signame(w & 0x7f)})${w & 0x80 ? ", core dumped" : ""}`;
}

/** The counter of an eventfd ("0x…"), in decimal. */
export function counterText(v) {
  try {
    return BigInt(v).toString(10);
  } catch {
    return String(v);
  }
}
