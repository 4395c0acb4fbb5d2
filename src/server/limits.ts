/** Every resource has a limit; these are the daemon's, each configurable (spec/protocol.md, "Limits"). */
import { DEFAULT_MAX_FRAME } from "../protocol/frame.js";

export interface Limits {
  /** Largest frame body a client may send, in bytes. */
  readonly maxFrame: number;
  /** Calls one connection may have parked at once; one more gets EAGAIN. */
  readonly maxParked: number;
  /** Connections at once; one more is closed at accept. */
  readonly maxConnections: number;
  /** A connection that has not said hello by then is closed, in ms. */
  readonly handshakeTimeoutMs: number;
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
  maxBuffered: 64 << 20,
  maxEventBacklog: 1 << 20,
  eventHistory: 4096,
};
