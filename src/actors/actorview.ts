/**
 * Actors' contexts as inspection shows them (`blinkd inspect`, the `changes` of `blinkd
 * events` records, the web view): plain msgpack data, and the process context's grouped
 * fields under their own names. One place, so that a snapshot and the records after it
 * speak of the same fields in the same form (the web view's time travel replays one onto
 * the other).
 */
import type { ProcessContext } from "../machine/process.js";

/**
 * A machine's context as plain msgpack data: sets become arrays, maps objects, 64-bit masks
 * hex strings, binary environment blocks their strings, fractional milliseconds whole ones.
 */
export function plain(v: unknown): unknown {
  if (typeof v === "bigint") return "0x" + v.toString(16);
  if (typeof v === "number") return Number.isInteger(v) ? v : Math.round(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8").split("\0").filter(Boolean);
  if (v instanceof Set) return [...v].map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== "function" && x !== undefined) o[k] = plain(x);
    return o;
  }
  return v;
}

/**
 * The process context's groups (src/machine/process.ts keeps rarely changed fields in
 * immutable groups, to stay under V8's fast-object limit), each field with the name users see.
 */
const GROUPS: Record<string, readonly (readonly [string, string])[]> = {
  image: [
    ["exe", "exe"],
    ["argv", "argv"],
    ["comm", "comm"],
  ],
  flags: [
    ["exitSignal", "exitSignal"],
    ["statusAssumed", "statusAssumed"],
    ["execed", "execed"],
    ["childSubreaper", "childSubreaper"],
  ],
  sigactions: [
    ["ignored", "sigIgnored"],
    ["caught", "sigCaught"],
    ["flags", "saFlags"],
  ],
  job: [
    ["stopped", "stopped"],
    ["waitReport", "waitReport"],
  ],
};

/**
 * The process context as `inspect` shows it: one flat map in the order it always had. The
 * machine groups fields that change rarely (image, flags, sigactions, job) to stay under
 * V8's fast-object limit (src/machine/process.ts); users see them each by name.
 */
export function flatProcess(c: ProcessContext): Record<string, unknown> {
  return {
    pid: c.pid,
    ppid: c.ppid,
    pgid: c.pgid,
    sid: c.sid,
    exe: c.image.exe,
    argv: c.image.argv,
    hostpid: c.hostpid,
    startTime: c.startTime,
    delivery: c.delivery,
    comm: c.image.comm,
    parentTid: c.parentTid,
    exitSignal: c.flags.exitSignal,
    children: c.children,
    threads: c.threads,
    wstatus: c.wstatus,
    statusAssumed: c.flags.statusAssumed,
    execed: c.flags.execed,
    childSubreaper: c.flags.childSubreaper,
    sigIgnored: c.sigactions.ignored,
    sigCaught: c.sigactions.caught,
    saFlags: c.sigactions.flags,
    creds: c.creds,
    pending: c.pending,
    stopped: c.job.stopped,
    waitReport: c.job.waitReport,
    info: c.info,
  };
}

/**
 * Fields a record of `blinkd events` leaves out: sets the machines update in place (a
 * process's children and threads: the records of the child and thread actors tell them), a
 * process's leader thread (its own `thread:PID` records tell it: actors/eventlog.ts) and an
 * eventfd's outcome of its last operation (a reply tells it).
 */
const UNRECORDED = new Set(["children", "threads", "leader", "last"]);

/** Cut so that one record stays small: the environment block by its size, long strings and arrays. */
function bounded(k: string, v: unknown): unknown {
  if (k === "info" && v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [ik, iv] of Object.entries(v)) o[ik] = ik === "environ" && iv instanceof Uint8Array ? `<${iv.length} bytes>` : plain(iv);
    return o;
  }
  const p = plain(v);
  if (typeof p === "string" && p.length > 256) return p.slice(0, 253) + "...";
  if (Array.isArray(p) && p.length > 64) return [...p.slice(0, 64), `…${p.length - 64} more`];
  return p;
}

/**
 * Context fields as a record of `blinkd events` carries them: `raw` is a whole context (a
 * spawn) or the top-level fields an event replaced (assign builds a new context that shares
 * every field it did not change), named and made plain as `inspect` shows them.
 */
export function recordedChanges(actor: string, raw: Record<string, unknown>): Record<string, unknown> {
  const proc = actor.startsWith("proc:");
  const o: Record<string, unknown> = {};
  for (const k in raw) {
    if (UNRECORDED.has(k)) continue;
    const v = raw[k];
    const group = proc ? GROUPS[k] : undefined;
    if (group && v && typeof v === "object") {
      for (const [f, name] of group) o[name] = bounded(name, (v as Record<string, unknown>)[f]);
    } else o[k] = bounded(k, v);
  }
  return o;
}
