/**
 * Framing: a 4-byte big-endian length N, then N bytes holding exactly one msgpack value.
 * 1 <= N <= the maximum frame size; anything else is a protocol error.
 */
import { encodeFrame } from "./codec.js";

export const DEFAULT_MAX_FRAME = 1 << 20;

export class FrameError extends Error {}

/** Encodes one value as one frame. */
export function frame(value: unknown): Buffer {
  return encodeFrame(value);
}

/**
 * Splits a byte stream into frame bodies; throws FrameError on a bad length. A chunk that
 * holds whole frames is handed out without a copy; the pieces of a frame that arrives in
 * several chunks are kept apart and joined once, when the whole frame is there.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  /** Bytes in `parts`. */
  private have = 0;
  /** Bytes `parts` must hold before a frame can come out of them. */
  private need = 4;
  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  /** Bytes received but not yet a whole frame (or not yet handled: see push). */
  get buffered(): number {
    return this.have;
  }

  /**
   * Feeds bytes and calls `onFrame` for each whole frame. `onFrame` returning false stops
   * there (the reader of a client that does not read its replies stops reading); the rest
   * stays buffered until the next push (an empty chunk resumes). If `onFrame` throws, what
   * is buffered is as it was before this push.
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => unknown): void {
    let buf = chunk;
    if (this.have > 0) {
      const total = this.have + chunk.length;
      if (total < this.need) {
        this.parts.push(chunk);
        this.have = total;
        return;
      }
      buf = chunk.length === 0 && this.parts.length === 1 ? this.parts[0]! : Buffer.concat(chunk.length === 0 ? this.parts : [...this.parts, chunk], total);
    }
    let off = 0;
    let need = 4;
    while (buf.length - off >= 4) {
      const n = buf.readUInt32BE(off);
      if (n === 0 || n > this.maxFrame) {
        this.parts = [];
        this.have = 0;
        this.need = 4;
        throw new FrameError(n === 0 ? "empty frame" : `frame of ${n} bytes is over the limit of ${this.maxFrame}`);
      }
      if (buf.length - off - 4 < n) {
        need = 4 + n;
        break;
      }
      const body = buf.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      if (onFrame(body) === false) break;
    }
    if (off === buf.length) {
      this.parts = [];
      this.have = 0;
      this.need = 4;
      return;
    }
    // A copy, so that a small remainder does not hold on to the whole chunk it came in.
    const rest = off === 0 && buf !== chunk ? buf : Buffer.from(buf.subarray(off));
    this.parts = [rest];
    this.have = rest.length;
    this.need = need;
  }
}
