/**
 * Interrupts: a parked call is interrupted by [2, seq]; every request gets exactly one
 * reply, the real result if the call completed first, else -512 (ERESTARTSYS); a zombie
 * that an interrupted wait4 did not return is still there to reap.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Served } from "./helpers/daemon.js";
import { Raw, StandIn } from "./helpers/raw.js";
import { agent, type Agent } from "./helpers/agent.js";
import { Guest } from "../src/client/guest.js";
import { SyscallError } from "../src/client/errors.js";
import { SA, SIG } from "../src/protocol/linux/signals.js";

const ERESTARTSYS = -512;
let d: Served;
let host: StandIn;
let init: Raw;

beforeAll(async () => {
  d = await serve();
  host = StandIn.start();
  init = await Raw.open(d.socket);
  expect(await init.register(host.pid)).toBe(1);
});
afterAll(async () => {
  init.destroy();
  await d.stop();
  host.kill();
});

const tick = () => new Promise((r) => setImmediate(r));

describe("interrupt racing completion", () => {
  it("many iterations: exactly one reply per request, and no zombie lost", async () => {
    const N = 240;
    const outcomes = { real: 0, interrupted: 0 };
    const waits: number[] = [];
    for (let i = 0; i < N; i++) {
      const { pid, token } = await init.fork();
      const child = await Raw.open(d.socket);
      expect(await child.claim(token, host.pid)).toBe(pid);
      const seq = init.request("wait4", { pid, options: 0 });
      waits.push(seq);
      // The child's end: exit_group(7), or its connection dropping (death by SIGKILL).
      const byExit = i % 2 === 0;
      const end = () => (byExit ? void child.request("exit_group", { status: 7 }) : child.destroy());
      const want = byExit ? 7 << 8 : 9;
      switch (i % 6) {
        case 0:
        case 1:
          end();
          init.interrupt(seq);
          break;
        case 2:
        case 3:
          init.interrupt(seq);
          end();
          break;
        case 4:
          end();
          await tick();
          init.interrupt(seq);
          break;
        case 5:
          // The wait4 has parked (a later call on the same connection was answered), then the interrupt comes first.
          await init.call("getpid");
          init.interrupt(seq);
          await tick();
          end();
          break;
      }
      const r = await init.reply(seq);
      if (r.result === pid) {
        outcomes.real++;
        expect(r.out).toEqual([want]);
        // It was reaped: gone for good.
        expect((await init.call("wait4", { pid, options: 1 })).result).toBe(-10);
      } else {
        expect(r.result, `iteration ${i}: ${JSON.stringify(r)}`).toBe(ERESTARTSYS);
        outcomes.interrupted++;
        // Nothing was consumed: the zombie is still reapable, with its status.
        const again = await init.call("wait4", { pid, options: 0 });
        expect(again.result).toBe(pid);
        expect(again.out).toEqual([want]);
      }
      child.destroy();
    }
    // A last round trip flushes any stray reply; then count: exactly one reply per wait4.
    await init.call("getpid");
    for (const seq of waits) expect(init.replies.get(seq)?.length, `replies to #${seq}`).toBe(1);
    for (const [seq, list] of init.replies) expect(list.length, `replies to #${seq}`).toBe(1);
    if (process.env.BLINKD_SPEC_VERBOSE) console.log("race outcomes", outcomes);
    expect(outcomes.real + outcomes.interrupted).toBe(N);
    // Both sides of the race were taken (case 5 always interrupts; case 4 almost always completes).
    expect(outcomes.interrupted).toBeGreaterThan(0);
    expect(outcomes.real).toBeGreaterThan(0);
    // No zombie is left behind and none was lost.
    expect((await init.call("wait4", { pid: -1, options: 1 })).result).toBe(-10);
  });

  it("an interrupt after the reply was sent is ignored: still one reply", async () => {
    const { pid, token } = await init.fork();
    const child = await Raw.open(d.socket);
    await child.claim(token, host.pid);
    await child.call("exit_group", { status: 1 });
    const seq = init.request("wait4", { pid, options: 0 });
    const r = await init.reply(seq);
    expect(r.result).toBe(pid);
    init.interrupt(seq);
    await init.call("getpid");
    expect(init.replies.get(seq)?.length).toBe(1);
    child.destroy();
  });
});

describe("the TypeScript client", () => {
  let g: Agent | undefined;
  afterAll(() => void g?.proc.kill("SIGKILL"));

  it("an AbortSignal sends the interrupt and the call fails with EINTR; the child is still there afterwards", async () => {
    const e = await serve();
    try {
      g = await agent(e.socket);
      const child = await g.fork();
      const { id, reply } = g.send("wait4", { pid: child.pid, options: 0 });
      // wait4 is parked once a later call on the same connection has been answered.
      await g.ok("getpid");
      g.abort(id);
      const r = await reply;
      expect(r.ok).toBe(false);
      expect(r.code).toBe("EINTR");
      await child.exit(9);
      const w = await g.ok("wait4", { pid: child.pid, options: 0 });
      expect(w.out!.wstatus).toBe(9 << 8);
    } finally {
      await e.stop();
    }
  });

  // The call's statechart (src/client/call.ts) end to end: a handled signal while wait4 is
  // parked sends the interrupt; the -512 reply becomes a restart under SA_RESTART (the wait
  // goes on and returns the child), else EINTR (signal(7)).
  for (const restart of [true, false]) {
    it(`a handled signal interrupts a parked wait4: ${restart ? "SA_RESTART restarts it" : "without SA_RESTART it fails with EINTR"}`, async () => {
      const e = await serve();
      const g = await Guest.connect({ socket: e.socket, onDaemonGone: "throw", env: {} });
      const child = await Raw.open(e.socket);
      try {
        const ran: number[] = [];
        await g.sigaction(SIG.SIGUSR1, (i) => ran.push(i.pid), restart ? SA.RESTART : 0);
        const { pid, token } = await g.forkReserve();
        expect(await child.claim(token, host)).toBe(pid);
        const w = g.wait4(pid, 0).then(
          (r) => r,
          (err: unknown) => err,
        );
        // wait4 is parked once a later call on the same connection has been answered.
        await g.getppid();
        expect((await child.call("kill", { pid: 1, sig: SIG.SIGUSR1 })).result).toBe(0);
        const deadline = Date.now() + 10_000;
        while (ran.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expect(ran, "the SIGNAL event never reached the handler in 10 s").toEqual([pid]);
        // Give an EINTR time to come back before the child ends, so the wait cannot have
        // completed with the child instead.
        await g.getppid();
        if (restart) {
          await child.call("exit_group", { status: 5 });
          expect(await w).toEqual({ pid, wstatus: 5 << 8 });
        } else {
          const err = await w;
          expect(err).toBeInstanceOf(SyscallError);
          expect((err as SyscallError).code).toBe("EINTR");
          await child.call("exit_group", { status: 6 });
          expect(await g.wait4(pid, 0)).toEqual({ pid, wstatus: 6 << 8 });
        }
      } finally {
        child.destroy();
        g.close();
        await e.stop();
      }
    });
  }
});
