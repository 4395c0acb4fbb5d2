/**
 * A process's or thread's PENDING (its pending set replaced) is taken without xstate's
 * macrostep (src/machine/assignonly.ts): the snapshot must be the one xstate's own transition
 * makes, in every state that takes it (a copy of the machine without the shortcut,
 * `provide({})`, is the reference); only events that assign and nothing else qualify; and
 * the actor's step around it stays xstate's (the event and snapshot inspections the event
 * log reads), without the microstep.
 */
import { describe, expect, it } from "vitest";
import { createActor, transition, type AnyStateMachine, type InspectionEvent } from "xstate";
import { processMachine, imageOf, type ProcessInput } from "../../src/machine/process.js";
import { threadMachine } from "../../src/machine/thread.js";
import { assignOnly } from "../../src/machine/assignonly.js";
import { EMPTY_QUEUE, SI, SIG, enqueue } from "../../src/machine/sigset.js";

const input: ProcessInput = { pid: 42, ppid: 1, pgid: 1, sid: 1, image: imageOf("/bin/sh", ["sh"]), hostpid: 0, startTime: 7, delivery: 0 };

const pending = enqueue(EMPTY_QUEUE, { signo: SIG.SIGCHLD, code: SI.USER, pid: 43, uid: 0, status: 0 }, 64);

type Snap = Record<string, unknown>;

function same(direct: Snap, xstate: Snap): void {
  expect(Object.keys(direct)).toEqual(Object.keys(xstate));
  for (const k of ["status", "output", "error", "value", "context", "children", "historyValue", "tags", "_nodes", "machine"]) expect(direct[k], k).toEqual(xstate[k]);
}

/** The actor's snapshot after `events`, then after PENDING, beside xstate's own transition of the former. */
function compare(machine: AnyStateMachine, actorInput: object, events: { type: string }[]): void {
  const a = createActor(machine, { input: actorInput }).start();
  for (const e of events) a.send(e as never);
  const before = a.getSnapshot();
  const event = { type: "PENDING", pending };
  a.send(event as never);
  const [xstate] = transition(machine.provide({}), before as never, event as never);
  same(a.getSnapshot() as unknown as Snap, { ...(xstate as unknown as Snap), machine });
  expect((a.getSnapshot().context as { pending: unknown }).pending).toBe(pending);
}

describe("events that only assign, without the macrostep", () => {
  it("qualify only when one unguarded, targetless transition on the root assigns and nothing else handles the event", () => {
    expect(assignOnly(processMachine, "PENDING")).toHaveLength(1);
    expect(assignOnly(threadMachine, "PENDING")).toHaveLength(1);
    expect(assignOnly(processMachine, "SET_WAITING"), "guarded").toBeUndefined();
    expect(assignOnly(processMachine, "CLAIM"), "a state's, with a target").toBeUndefined();
    expect(assignOnly(processMachine, "CHILD_DROP"), "an action that is not an assign").toBeUndefined();
    expect(assignOnly(processMachine, "STOP"), "handled by states").toBeUndefined();
  });

  it("make xstate's snapshot in every state that takes them", () => {
    compare(processMachine, input, []);
    compare(processMachine, input, [{ type: "CLAIM", hostpid: 99 } as never]);
    compare(processMachine, input, [{ type: "CLAIM", hostpid: 99 } as never, { type: "DIE", wstatus: 9, assumed: false } as never]);
    compare(threadMachine, { tid: 43, pid: 42 }, []);
    compare(threadMachine, { tid: 43, pid: 42 }, [{ type: "CLAIM" }]);
  });

  it("keep the actor's own step (its event and snapshot inspections) and take no microstep", () => {
    const seen: string[] = [];
    const a = createActor(processMachine, { input, inspect: (e: InspectionEvent) => void seen.push(e.type) }).start();
    seen.length = 0;
    a.send({ type: "PENDING", pending });
    expect(seen).toEqual(["@xstate.event", "@xstate.snapshot"]);
  });
});
