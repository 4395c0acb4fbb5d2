/** Every resource has a limit; these are the daemon's, each configurable (spec/protocol.md, "Limits"). */
import * as fs from "node:fs";
import { DEFAULT_MAX_FRAME } from "../protocol/frame.js";
/** The descriptor limits' defaults (RLIMIT_NOFILE, file-max: actors/files.ts), for the entry points' options. */
export { defaultFileLimits } from "../actors/files.js";

export interface Limits {
  /** Largest frame body a client may send, in bytes. */
  readonly maxFrame: number;
  /** Calls one connection may have parked at once; one more gets EAGAIN. */
  readonly maxParked: number;
  /** Connections at once; one more is closed at accept. */
  readonly maxConnections: number;
  /** A connection that has not said hello by then is closed, in ms. */
  readonly handshakeTimeoutMs: number;
  /** A frame begun and not finished by then closes its connection, in ms (a client cannot hold the daemon's buffer forever). */
  readonly frameTimeoutMs: number;
  /** Connections accepted beyond maxConnections for control clients only, so that `ps` and `check` still reach a full daemon. */
  readonly controlReserve: number;
  /** Bytes of unfinished frames the daemon holds for all connections together; the connection that passes it is closed. */
  readonly maxBuffered: number;
  /** Bytes of event messages waiting to be written to one connection; beyond it, `events --follow` drops records and says how many. */
  readonly maxEventBacklog: number;
  /** Records of actor transitions and calls the daemon keeps for `blinkd events` (a ring: the oldest go first). */
  readonly eventHistory: number;
}

export const defaultLimits: Limits = {
  maxFrame: DEFAULT_MAX_FRAME,
  maxParked: 64,
  maxConnections: 4096,
  handshakeTimeoutMs: 5000,
  frameTimeoutMs: 10_000,
  controlReserve: 8,
  maxBuffered: 64 << 20,
  maxEventBacklog: 1 << 20,
  eventHistory: 4096,
};

/** Descriptors the daemon keeps for itself beyond its connections: stdio, listeners, locks, /proc reads, the pipes of the few programs it runs (flock, mkfifo). */
export const DESCRIPTOR_RESERVE = 64;

/** The soft RLIMIT_NOFILE of this process (/proc/self/limits; Node.js raises it to the hard limit at start), or undefined when unknown. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync("/proc/self/limits", "latin1"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * maxConnections sized to what the process may open: each connection is a descriptor, and
 * past RLIMIT_NOFILE accept(2) fails with EMFILE and the client sees a bare ECONNRESET. Returns
 * the limit to use and, when it had to be lowered, the sentence that says so.
 */
export function fitToDescriptors(l: Limits, nofile = openFileLimit()): { limits: Limits; lowered?: string } {
  if (nofile === undefined) return { limits: l };
  const room = Math.max(1, nofile - DESCRIPTOR_RESERVE - l.controlReserve);
  if (l.maxConnections <= room) return { limits: l };
  return {
    limits: { ...l, maxConnections: room },
    lowered: `at most ${room} connections, not ${l.maxConnections}: this process may open ${nofile} descriptors (RLIMIT_NOFILE; raise it with 'ulimit -n'), ${DESCRIPTOR_RESERVE + l.controlReserve} of them kept for the daemon and control clients`,
  };
}
