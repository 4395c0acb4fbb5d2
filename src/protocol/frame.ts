/**
 * Framing: a 4-byte big-endian length N, then N bytes holding exactly one msgpack value.
 * 1 <= N <= the maximum frame size; anything else is a protocol error.
 */
import { encode } from "./codec.js";

export const DEFAULT_MAX_FRAME = 1 << 20;

export class FrameError extends Error {}

/** Encodes one value as one frame. */
export function frame(value: unknown): Buffer {
  const body = encode(value);
  const buf = Buffer.allocUnsafe(4 + body.length);
  buf.writeUInt32BE(body.length, 0);
  body.copy(buf, 4);
  return buf;
}

/** Splits a byte stream into frame bodies; throws FrameError on a bad length. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Feeds bytes and calls `onFrame` for each whole frame. `onFrame` returning false stops
   * there (the reader of a client that does not read its replies stops reading); the rest
   * stays buffered until the next push (an empty chunk resumes).
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => unknown): void {
    const buf = this.buf.length === 0 ? chunk : chunk.length === 0 ? this.buf : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (buf.length - off >= 4) {
      const n = buf.readUInt32BE(off);
      if (n === 0 || n > this.maxFrame) {
        this.buf = Buffer.alloc(0);
        throw new FrameError(n === 0 ? "empty frame" : `frame of ${n} bytes is over the limit of ${this.maxFrame}`);
      }
      if (buf.length - off - 4 < n) break;
      const body = buf.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      if (onFrame(body) === false) break;
    }
    this.buf = off === buf.length ? Buffer.alloc(0) : off === 0 && buf !== chunk ? buf : Buffer.from(buf.subarray(off));
  }
}
