/**
 * The lowest signal of a mask (machine/sigset.ts `lowest`), found from the mask's two 32-bit
 * halves, is the one a test of each signal's bit in turn finds (next_signal's order, and the
 * order deliver rings its doorbells in): for every single bit, both halves' edges, masks with
 * bits past 64 (not a signal: never found) and random masks; and nextSignal still takes the
 * synchronous signals first.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NSIG, SIG, SIGRTMIN, bit, has, lowest, maskOf, nextSignal } from "../../src/machine/sigset.js";

/** The definition: the first signal 1..64 whose bit is set. */
function byEachBit(mask: bigint): number {
  for (let s = 1; s <= NSIG; s++) if (has(mask, s)) return s;
  return 0;
}

describe("the lowest signal of a mask", () => {
  it("is each single signal's own number, and 0 for none", () => {
    expect(lowest(0n)).toBe(0);
    for (let s = 1; s <= NSIG; s++) {
      expect(lowest(bit(s))).toBe(s);
      expect(lowest(bit(s) | bit(NSIG))).toBe(s);
    }
    expect(lowest(1n << 64n)).toBe(0);
    expect(lowest((1n << 64n) | bit(40))).toBe(40);
  });

  it("is the first signal a test of each bit finds, for any mask", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 70n) - 1n }), (m) => lowest(m) === byEachBit(m)),
      { numRuns: 2000 },
    );
  });

  it("next_signal: the synchronous signals first, then the lowest unblocked", () => {
    const q = { mask: maskOf(SIG.SIGHUP, SIG.SIGSEGV, SIGRTMIN), q: [] };
    expect(nextSignal(q, 0n)).toBe(SIG.SIGSEGV);
    expect(nextSignal(q, bit(SIG.SIGSEGV))).toBe(SIG.SIGHUP);
    expect(nextSignal(q, maskOf(SIG.SIGSEGV, SIG.SIGHUP))).toBe(SIGRTMIN);
    expect(nextSignal(q, q.mask)).toBe(0);
  });
});
