/**
 * The fork reservations' one timer (src/actors/reservations.ts) is not cleared when a claim
 * empties the registry: a shell's next fork would arm it again (a Node.js timer list built
 * and cleared per process). Left armed, it still expires every reservation at its own
 * deadline: one made after the registry emptied is not taken at the gone one's deadline,
 * and does expire (SIGKILL: the child never came) at its own.
 */
import { describe, expect, it } from "vitest";
import { Kernel, defaultKernelConfig } from "../../src/actors/kernel.js";
import { claim, fork, register } from "../../src/actors/fork.js";
import { unreserveAll } from "../../src/actors/reservations.js";

const MS = 150;

function kernel(): Kernel {
  const k = new Kernel({ ...defaultKernelConfig, reserveTimeoutMs: MS }, { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} });
  register(k, 0, "/sbin/init", ["init"], 0);
  return k;
}

function forked(k: Kernel): { pid: number; token: string } {
  const f = fork(k, 1);
  if (!("pid" in f)) throw new Error(`fork: ${f.message}`);
  return f;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the reservations' timer across claims", () => {
  it("a claim that empties the registry leaves the timer armed, and the next fork arms no other", () => {
    const k = kernel();
    const a = forked(k);
    const timer = k.reserveTimer;
    expect(timer, "a fork's reservation arms the timer").toBeDefined();
    claim(k, a.token, 0);
    expect(k.reservations.size).toBe(0);
    forked(k);
    expect(k.reserveTimer).toBe(timer);
    unreserveAll(k);
    expect(k.reserveTimer).toBeUndefined();
  });

  it("a reservation made after the registry emptied expires at its own deadline, not the gone one's", async () => {
    const k = kernel();
    const a = forked(k);
    const t0 = performance.now();
    claim(k, a.token, 0);
    await sleep(MS / 2);
    const b = forked(k);
    const tb = performance.now();
    // The timer runs at a's deadline (t0 + MS): b, made MS/2 later, is still unclaimed after it.
    while (performance.now() < t0 + MS + MS / 4) await sleep(5);
    if (performance.now() < tb + MS - 5) expect(k.state(b.pid), "b expired at the claimed reservation's deadline").toBe("embryo");
    const deadline = performance.now() + 5000;
    while (k.state(b.pid) === "embryo" && performance.now() < deadline) await sleep(5);
    expect(k.state(b.pid), `b's reservation did not expire within 5 s of its deadline`).not.toBe("embryo");
    expect(performance.now() - tb).toBeGreaterThanOrEqual(MS - 1);
    unreserveAll(k);
  });
});
