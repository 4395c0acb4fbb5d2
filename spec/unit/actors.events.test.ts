/**
 * Cross-process effects travel as events between the namespace's actors (ARCHITECTURE.md,
 * "Who owns what"): the actors are one xstate system rooted at the namespace actor, a dying
 * process's actor hands its children over (REPARENT to each, ADOPT to the reaper), and a dead
 * child is released (REAP: zombie → reaped) at once when its parent auto-reaps, else at its
 * parent's wait; the parent's actor takes no event for either, nor for a fork (its list is
 * changed in place: machine/process.ts). Read from
 * the kernel's own event records, as `blinkd events` shows them.
 */
import { describe, expect, it } from "vitest";
import type { Kernel } from "../../src/actors/kernel.js";
import { kernelOnly } from "../helpers/kernelonly.js";
import { exitGroup, waitAttempt } from "../../src/actors/exit.js";
import { claim, forkAbort, threadCreate } from "../../src/actors/fork.js";
import { vforkReserve } from "../../src/actors/vfork.js";
import { EventLog } from "../../src/actors/eventlog.js";
import { sigaction } from "../../src/actors/signal.js";
import { HANDLER, SIG } from "../../src/machine/sigset.js";
import type { OtherThread } from "../../src/actors/leader.js";
import { E } from "../../src/protocol/errno.js";

function namespace(): { k: Kernel; seen: string[]; child: (parent: number) => number } {
  const { k, steps, child } = kernelOnly();
  return { k, seen: steps, child };
}

describe("effects between processes are events between their actors", () => {
  it("every actor of the namespace is in the namespace actor's system, found by its id until it is gone", () => {
    const { k, child } = namespace();
    const p = child(1);
    expect(k.proc(p)!.system).toBe(k.ns.system);
    expect(k.ns.system.get(`proc:${p}`)).toBe(k.proc(p));
    // The leader thread is the process's actor's (actors/leader.ts); a second thread has an actor of its own.
    expect(k.ns.system.get(`thread:${p}`)).toBeUndefined();
    expect(k.threads.get(p)!.getSnapshot()).toMatchObject({ value: "running", context: { tid: p, pid: p } });
    const t = threadCreate(k, p, p);
    if (!("tid" in t)) throw new Error(t.message);
    claim(k, t.token, 0);
    expect(k.ns.system.get(`thread:${t.tid}`)).toBe((k.threads.get(t.tid) as OtherThread).actor);
    exitGroup(k, p, 0, false);
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: p });
    expect(k.ns.system.get(`proc:${p}`)).toBeUndefined();
    expect(k.ns.system.get(`thread:${t.tid}`)).toBeUndefined();
    expect(k.threads.has(p) || k.threads.has(t.tid)).toBe(false);
  });

  it("a dying process's actor gives each child REPARENT and init ADOPT, in list order; a zombie child waits for init's wait, with no event to init", () => {
    const { k, seen, child } = namespace();
    const p = child(1);
    const [a, b, c] = [child(p), child(p), child(p)];
    exitGroup(k, b, 3 << 8, false);
    seen.length = 0;
    exitGroup(k, p, 0, false);
    const moves = seen.filter((s) => / (FORGET_CHILDREN|REPARENT|ADOPT|CHILD_EXITED|REAP)$/.test(s));
    expect(moves).toEqual([`proc:${a} REPARENT`, `proc:${b} REPARENT`, `proc:${c} REPARENT`, "proc:1 ADOPT", `proc:${p} FORGET_CHILDREN`]);
    expect([...k.ctx(1)!.children]).toEqual([p, a, b, c]);
    expect(k.ctx(p)!.children.size).toBe(0);
    expect([a, b, c].map((x) => k.ctx(x)!.ppid)).toEqual([1, 1, 1]);
    // init does not auto-reap: the zombies stay until its wait takes them, in list order.
    expect(k.state(b)).toBe("zombie");
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: p });
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: b, wstatus: 3 << 8 });
    // The wait's reap: the zombie's own step alone, and init's list without it.
    exitGroup(k, a, 0, false);
    seen.length = 0;
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: a });
    expect(seen.filter((s) => s.startsWith("proc:"))).toEqual([`proc:${a} REAP`]);
    expect([...k.ctx(1)!.children]).toEqual([c]);
  });

  it("a process's fork, exit and reap take no step of the namespace actor; init's death still ends the namespace once its last task is gone", () => {
    const { k, seen, child } = namespace();
    const [tasks, created] = [k.tasks, k.created];
    seen.length = 0;
    const p = child(1);
    expect([k.lastPid, k.tasks, k.created]).toEqual([p, tasks + 1, created + 1]);
    exitGroup(k, p, 0, false);
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ pid: p });
    expect(k.tasks).toBe(tasks);
    expect(seen.filter((s) => s.startsWith("namespace "))).toEqual([]);
    // A zombie left when init dies is reaped with the rest; the last task's end is the namespace's.
    const q = child(1);
    exitGroup(k, q, 0, false);
    exitGroup(k, 1, 0, false);
    expect(k.tasks).toBe(0);
    expect(k.nsState()).toBe("over");
    expect(seen.filter((s) => s.startsWith("namespace ") && !s.endsWith(" RELEASE"))).toEqual(["namespace INIT_DIED", "namespace ALL_GONE"]);
  });

  it("a fork (and a vfork's reservation) takes no step of the parent's actor: the child joins its list in place, and the records still show the parent's CHILD_ADD", () => {
    const { k, seen, child } = namespace();
    const log = new EventLog(k, 256);
    const p = child(1);
    seen.length = 0;
    const a = child(p);
    expect(seen.filter((s) => s.startsWith(`proc:${p} `))).toEqual([]);
    expect(seen).toEqual([`proc:${a} CLAIM`]);
    const post = vforkReserve(k, p, p, "0".repeat(32), "1".repeat(32));
    if (typeof post !== "number") throw new Error(post.message);
    expect(seen.filter((s) => s.startsWith(`proc:${p} `))).toEqual([]);
    // copy_process's list_add_tail: fork order, read by wait, reparenting and the counts alike.
    expect([...k.ctx(p)!.children]).toEqual([a, post]);
    expect(log.recent(p).filter((r) => r.event === "CHILD_ADD").map((r) => [r.kind, r.actor, r.to])).toEqual([
      ["update", `proc:${p}`, "running"],
      ["update", `proc:${p}`, "running"],
    ]);
    expect(forkAbort(k, p, post)).toBe(0);
    expect([...k.ctx(p)!.children]).toEqual([a]);
    exitGroup(k, a, 0, false);
    expect(waitAttempt(k, p, p, { kind: "any" }, 4)).toMatchObject({ pid: a });
    expect(k.ctx(p)!.children.size).toBe(0);
  });

  it("a parent that ignores SIGCHLD has its dead child released at once: REAP to the child, no event to the parent, nothing left to wait for", () => {
    const { k, seen, child } = namespace();
    expect(sigaction(k, 1, SIG.SIGCHLD, HANDLER.IGN, 0)).toBe(0);
    const p = child(1);
    seen.length = 0;
    exitGroup(k, p, 0, false);
    expect(seen.filter((s) => / (CHILD_EXITED|REAP_CHILD|REAP)$/.test(s) || s.startsWith("proc:1 "))).toEqual([`proc:${p} REAP`]);
    expect(k.procs.has(p)).toBe(false);
    expect(k.ctx(1)!.children.size).toBe(0);
    expect(waitAttempt(k, 1, 1, { kind: "any" }, 4)).toMatchObject({ code: E.ECHILD });
  });
});
