/**
 * A thread's signal mask is a plain field of its reference (actors/leader.ts,
 * ThreadRef.blocked), not an actor's context: a sigprocmask is no xstate event (a shell
 * changes its mask around every fork: bench/README.md, issue 18), yet every reader sees the one
 * mask, fork copies it, `blinkd events` records the change as the SET_BLOCKED update it was,
 * and an unblock still delivers what it made deliverable (set_current_blocked →
 * recalc_sigpending, then get_signal on the way back to user mode).
 */
import { describe, expect, it } from "vitest";
import type { Kernel } from "../../src/actors/kernel.js";
import { kernelOnly } from "../helpers/kernelonly.js";
import { EventLog } from "../../src/actors/eventlog.js";
import { sendSignal, sigprocmask } from "../../src/actors/signal.js";
import { pendingFor } from "../../src/actors/dequeue.js";
import { HOW, SI, SIG, bit } from "../../src/machine/sigset.js";

function namespace(): { k: Kernel; log: EventLog; steps: string[]; child: (parent: number) => number } {
  const ns = kernelOnly();
  return { ...ns, log: new EventLog(ns.k, 256) };
}

const usr1 = bit(SIG.SIGUSR1);

describe("a thread's mask beside its actor", () => {
  it("a sigprocmask takes no actor event; readers, fork's copy and the records see the one mask", () => {
    const { k, log, steps, child } = namespace();
    const p = child(1);
    steps.length = 0;
    expect(sigprocmask(k, p, p, HOW.BLOCK, usr1)).toBe(0n);
    expect(steps).toEqual([]);
    expect(k.threads.get(p)!.blocked).toBe(usr1);
    // Blocked, a signal whose default is to terminate stays pending (sig_ignored: never ignored while blocked).
    sendSignal(k, p, undefined, { signo: SIG.SIGUSR1, code: SI.USER, pid: 1, uid: 0, status: 0 });
    expect(k.state(p)).toBe("running");
    expect(pendingFor(k, p, p)).toBe(usr1);
    // copy_process copies current->blocked.
    const q = child(p);
    expect(k.threads.get(q)!.blocked).toBe(usr1);
    const recs = log.recent();
    expect(recs.filter((r) => r.actor === `thread:${p}` && r.event === "SET_BLOCKED").map((r) => [r.kind, r.to, r.changes])).toEqual([["update", "running", { blocked: "0x200" }]]);
    expect(recs.find((r) => r.actor === `thread:${q}` && r.kind === "spawn")?.changes).toMatchObject({ tid: q, pid: q, blocked: "0x200" });
    // The same mask again changes nothing and records nothing.
    expect(sigprocmask(k, p, p, HOW.BLOCK, usr1)).toBe(usr1);
    expect(log.recent().filter((r) => r.event === "SET_BLOCKED").length).toBe(1);
  });

  it("unblocking a pending fatal signal still acts on it: the process dies of it", async () => {
    const { k, child } = namespace();
    const p = child(1);
    sigprocmask(k, p, p, HOW.BLOCK, usr1);
    sendSignal(k, p, undefined, { signo: SIG.SIGUSR1, code: SI.USER, pid: 1, uid: 0, status: 0 });
    expect(k.state(p)).toBe("running");
    expect(sigprocmask(k, p, p, HOW.UNBLOCK, usr1)).toBe(usr1);
    // A process not running its call dies in the next turn (killProcess), with the signal as its status.
    await new Promise((r) => setImmediate(r));
    expect(k.state(p)).toBe("zombie");
    expect(k.ctx(p)!.wstatus).toBe(SIG.SIGUSR1);
  });
});
