/**
 * One-time secrets: fork and thread tokens, and each connection's nonce (the proof of its
 * host pid, server/hostproof.ts). 16 random bytes each, as 32 hex digits, cut from a pool
 * refilled 256 secrets at a time, so that a fork or a new connection pays one
 * randomFillSync per 256 rather than one randomBytes (with its buffer) each: about 2 % of a
 * fork cycle's daemon time for the token, and ~60 µs per connection for the nonce under the
 * dash loop's load (bench/README.md).
 */
import { randomFillSync } from "node:crypto";

const SIZE = 16;
const pool = Buffer.alloc(256 * SIZE);
let at = pool.length;

export function secret(): string {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const s = pool.toString("hex", at, at + SIZE);
  at += SIZE;
  return s;
}
