/**
 * Chaos: real guest processes fork, exit, wait, read and write a shared eventfd, and are
 * interrupted, while random ones are killed with SIGKILL in the middle of a call. Then every
 * process that died is reaped exactly once with the status it died with, the eventfd's sum
 * read equals its sum written, and the daemon's own consistency checker finds nothing:
 * no leaked pid, actor, descriptor or file, no parked call left, no zombie without a
 * parent to reap it, memory back near its start.
 *
 * Sizes: CHAOS_ROUNDS (default 30) and CHAOS_SPAWN (guest processes started, default 12); the
 * timeout grows with CHAOS_ROUNDS so a long run (README, Reliability) is not cut short.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../fuzz/daemon.js";
import { agent, agentTracker, type Agent, type Reply } from "./helpers/agent.js";
import { Control } from "../src/client/control.js";

const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 30);
const SPAWN = Number(process.env.CHAOS_SPAWN ?? 12);
const MAX_LIVE = 6;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const SIGKILL = 9;

/** mulberry32: a seeded generator, so a failing run can be replayed with CHAOS_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let d: Daemon;
const { track, killAll } = agentTracker();
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  killAll();
  await d.stop();
});

export interface ChaosFigures {
  spawned: number;
  killed: number;
  killedMidCall: number;
  exited: number;
  interrupts: number;
  reaped: number;
  written: bigint;
  read: bigint;
  checked: number;
}

describe("chaos", () => {
  it(`${ROUNDS} rounds of fork/exit/wait/eventfd work with SIGKILL mid-call: nothing lost, every invariant holds`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
    const rand = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const fig: ChaosFigures = { spawned: 1, killed: 0, killedMidCall: 0, exited: 0, interrupts: 0, reaped: 0, written: 0n, read: 0n, checked: 0 };
    const expected = new Map<number, number>();
    const reaped = new Map<number, number>();
    const problems: string[] = [];
    const note = (s: string): void => void problems.push(`${s} (seed ${seed})`);

    const init = await track(agent(d.socket));
    expect(init.pid).toBe(1);
    // The ledger eventfd every guest inherits, and one nobody writes (victims block on it).
    const ledger = (await init.ok("eventfd2", { initval: 0, flags: 0 })).result;
    const deadEnd = (await init.ok("eventfd2", { initval: 0, flags: 0 })).result;
    const live: Agent[] = [init];

    const recordReap = (by: Agent, r: Reply): void => {
      if (!r.ok || !r.result) return;
      fig.checked++;
      if (reaped.has(r.result)) note(`pid ${r.result} reaped twice (by ${by.pid})`);
      reaped.set(r.result, r.out!.wstatus as number);
    };
    const recordRead = (r: Reply): void => {
      if (r.ok) fig.read += BigInt(r.out!.value as bigint | number);
      else if (r.code !== "EINTR") note(`eventfd_read: ${r.code} ${r.detail ?? ""}`);
    };
    /** A blocking call, interrupted once the daemon has it (a later call on the same connection is answered in order). */
    const interrupted = async (a: Agent, name: string, args: Record<string, unknown>): Promise<Reply> => {
      const c = a.send(name, args);
      if (rand() < 0.5) await a.call("gettid");
      a.abort(c.id);
      fig.interrupts++;
      return c.reply;
    };
    const drop = (a: Agent): void => void live.splice(live.indexOf(a), 1);

    const op = async (a: Agent): Promise<void> => {
      const ops = ["write", "read", "wait", "waitInt", "write"];
      if (fig.spawned < SPAWN && live.length < MAX_LIVE) ops.push("fork", "fork", "fork");
      if (a !== init) ops.push("exit", "kill", "killMid", "killMid");
      switch (pick(ops)) {
        case "fork": {
          fig.spawned++;
          const c = await track(a.fork());
          live.push(c);
          return;
        }
        case "write": {
          const v = BigInt(1 + Math.floor(rand() * 1000));
          const r = await a.call("eventfd_write", { fd: ledger, value: v, size: 8 });
          if (r.ok) fig.written += v;
          else note(`eventfd_write: ${r.code} ${r.detail ?? ""}`);
          return;
        }
        case "read":
          return recordRead(await interrupted(a, "eventfd_read", { fd: ledger, size: 8 }));
        case "wait":
          return recordReap(a, await a.call("wait4", { pid: -1, options: WNOHANG }));
        case "waitInt":
          return recordReap(a, await interrupted(a, "wait4", { pid: -1, options: 0 }));
        case "exit": {
          drop(a);
          const status = Math.floor(rand() * 256);
          expected.set(a.pid, status << 8);
          fig.exited++;
          return a.exit(status);
        }
        case "kill":
          drop(a);
          expected.set(a.pid, SIGKILL);
          fig.killed++;
          await a.kill("SIGKILL");
          return;
        case "killMid": {
          // Killed with a call parked in the daemon (or still on its way to it). The calls
          // take nothing when they complete (a read nobody writes for, a wait with WNOWAIT),
          // so whatever a dead process would have taken is still there to be counted.
          drop(a);
          const [name, args] = pick([
            ["eventfd_read", { fd: deadEnd, size: 8 }],
            ["waitid", { idtype: 0, id: 0, options: WEXITED | WNOWAIT }],
          ] as const);
          void a.send(name, args as Record<string, unknown>);
          if (rand() < 0.7) await a.call("gettid");
          expected.set(a.pid, SIGKILL);
          fig.killed++;
          fig.killedMidCall++;
          await a.kill("SIGKILL");
          return;
        }
      }
    };

    for (let round = 0; round < ROUNDS && problems.length === 0; round++) {
      // Up to three guests act at once, each on its own connection.
      const actors = [...new Set(Array.from({ length: 3 }, () => pick(live)))];
      await Promise.all(actors.map((a) => op(a)));
    }
    for (const a of [...live]) {
      if (a === init) continue;
      drop(a);
      expected.set(a.pid, SIGKILL);
      fig.killed++;
      await a.kill("SIGKILL");
    }
    // Init reaps what is left (orphans come to it) until nothing is: then ECHILD.
    for (;;) {
      const r = await init.call("wait4", { pid: -1, options: 0 });
      if (!r.ok) {
        expect(r.code).toBe("ECHILD");
        break;
      }
      recordReap(init, r);
    }
    // Drain the ledger: whatever is left is what nobody read.
    recordRead(await interrupted(init, "eventfd_read", { fd: ledger, size: 8 }));
    fig.reaped = reaped.size;

    expect(problems).toEqual([]);
    for (const [pid, want] of expected) {
      fig.checked++;
      expect(reaped.get(pid), `pid ${pid}'s status (seed ${seed})`).toBe(want);
    }
    expect([...reaped.keys()].filter((p) => !expected.has(p)), `reaped but never died (seed ${seed})`).toEqual([]);
    expect(fig.read, `eventfd: read ${fig.read}, written ${fig.written} (seed ${seed})`).toBe(fig.written);

    const ctl = await Control.connect(d.socket);
    const report = await ctl.check();
    ctl.close();
    expect(report.problems, `seed ${seed}`).toEqual([]);
    expect(report.counts.processes).toBe(1);
    expect(report.counts.zombies).toBe(0);
    expect(report.counts.files).toBe(2);
    expect(d.internalErrors).toEqual([]);
    process.stdout.write(
      `chaos (seed ${seed}): ${fig.spawned} guest processes, ${fig.killed} killed with SIGKILL (${fig.killedMidCall} mid-call), ${fig.exited} exited, ` +
        `${fig.interrupts} interrupts, ${fig.reaped} reaped with the right status, eventfd ${fig.written} written = ${fig.read} read, ${fig.checked} values checked\n`,
    );
  }, Math.max(180_000, ROUNDS * 2_000));
});
