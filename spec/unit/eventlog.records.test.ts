/**
 * The event log's ring (actors/eventlog.ts, `blinkd events`): a record is made into what a
 * reader sees only when read, from the slot it was written to, and the slots are filled in
 * place once the ring has them (no object per record on the daemon's path: bench/README.md,
 * "Tenth round, helper 19c"). What a reader gets after the fact must still be what a follower
 * got as it happened: a thread's spawn shows its mask at the spawn, a process's leader thread
 * is `thread:PID`, a wrapped ring holds the newest records.
 */
import { describe, expect, it } from "vitest";
import { kernelOnly } from "../helpers/kernelonly.js";
import { EventLog, type EventRecord } from "../../src/actors/eventlog.js";
import { claim, threadCreate } from "../../src/actors/fork.js";
import { execve } from "../../src/actors/exec.js";
import { exitGroup, threadExit, waitAttempt } from "../../src/actors/exit.js";
import { sigprocmask } from "../../src/actors/signal.js";
import { HOW, SIG, bit } from "../../src/machine/sigset.js";

/** A life with every kind of record: forks with a blocked mask, a second thread, masks changed after the spawns, an exec, exits and reaps. */
function lives(capacity: number, rounds: number): { log: EventLog; followed: EventRecord[] } {
  const { k, child } = kernelOnly();
  const log = new EventLog(k, capacity);
  const followed: EventRecord[] = [];
  log.follow((r) => followed.push(structuredClone(r)));
  for (let i = 0; i < rounds; i++) {
    const p = child(1);
    expect(sigprocmask(k, p, p, HOW.BLOCK, bit(SIG.SIGUSR1))).toBe(0n);
    // copy_process copies current->blocked: the child's leader and the new thread spawn with SIGUSR1 blocked.
    const q = child(p);
    const t = threadCreate(k, q, q);
    if (!("tid" in t)) throw new Error(t.message);
    claim(k, t.token, 0);
    // Their masks change after their spawn records were made.
    sigprocmask(k, q, q, HOW.SETMASK, bit(SIG.SIGUSR2));
    sigprocmask(k, q, t.tid, HOW.SETMASK, 0n);
    threadExit(k, q, t.tid, 0);
    log.call(q, q, "execve", { path: "/bin/true", argv: ["true"] }, 1);
    expect(typeof execve(k, q, q, "/bin/true", ["true"])).toBe("number");
    log.reply(q, q, "execve", 0, 1);
    exitGroup(k, q, 0, false);
    expect(waitAttempt(k, p, p, { kind: "any" }, 4)).toMatchObject({ pid: q });
    exitGroup(k, p, 0, false);
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: p });
  }
  return { log, followed };
}

describe("the event log's records", () => {
  it("read after the fact, they are what a follower got as they happened (spawn masks, leader threads, a wrapped ring)", () => {
    const { log, followed } = lives(64, 6);
    expect(followed.length).toBeGreaterThan(64);
    expect(followed.map((r) => r.seq)).toEqual(followed.map((_, i) => i + 1));
    expect(log.recent()).toEqual(followed.slice(-64));
    // The spawn records carry the masks of their spawn, not today's.
    const spawns = followed.filter((r) => r.kind === "spawn" && r.actor.startsWith("thread:"));
    expect(spawns.some((r) => r.changes?.["blocked"] === "0x200")).toBe(true);
    // A process's leader thread is `thread:PID`, a thread of its own is `thread:TID`, both with their own records.
    const procs = followed.filter((r) => r.kind === "spawn" && r.actor.startsWith("proc:")).map((r) => r.pid);
    expect(procs.length).toBe(12);
    for (const pid of procs) {
      expect(followed.filter((r) => r.actor === `thread:${pid}` && (r.kind === "spawn" || r.to === "exited")).map((r) => [r.kind, r.pid, r.to])).toEqual([
        ["spawn", pid, "embryo"],
        ["transition", pid, "exited"],
      ]);
    }
    const { log: whole, followed: all } = lives(4096, 6);
    expect(whole.recent()).toEqual(all);
  });

  it("fill the ring's slots in place: once the ring has wrapped, a record makes no slot of its own", () => {
    const { log, followed } = lives(16, 1);
    expect(followed.length).toBeGreaterThan(16);
    const ring = (log as unknown as { ring: object[] }).ring;
    const slots = [...ring];
    expect(slots.every((s) => s !== undefined)).toBe(true);
    log.call(1, 1, "getpid", {}, 7);
    log.reply(1, 1, "getpid", 1, 7);
    expect(ring.every((s, i) => s === slots[i])).toBe(true);
    expect(log.recent().slice(-2).map((r) => [r.kind, r.actor, r.event, r.result, r.req])).toEqual([
      ["call", "thread:1", "getpid", undefined, 7],
      ["reply", "thread:1", "getpid", 1, 7],
    ]);
  });
});
