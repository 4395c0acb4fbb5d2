/**
 * A process's and a thread's actor get their initial snapshot directly
 * (src/machine/initialsnapshot.ts), not from xstate's macrostep: the snapshot must be the one
 * xstate makes, field by field (a copy of the machine without the shortcut, `provide({})`, is
 * the reference), and the actor must then behave as one xstate started.
 */
import { describe, expect, it } from "vitest";
import { createActor, getInitialSnapshot, type AnyStateMachine } from "xstate";
import { processMachine, imageOf, type ProcessInput } from "../../src/machine/process.js";
import { threadMachine, type ThreadInput } from "../../src/machine/thread.js";
import { startsQuietly } from "../../src/machine/initialsnapshot.js";
import { kernelOnly } from "../helpers/kernelonly.js";

type Snap = Record<string, unknown> & { _nodes: { id: string }[] };

function compare(machine: AnyStateMachine, input: object): void {
  // The first actor's snapshot is xstate's own (the template); the second is made directly.
  createActor(machine, { input });
  const direct = createActor(machine, { input }).getSnapshot() as unknown as Snap;
  const xstate = getInitialSnapshot(machine.provide({}), input) as unknown as Snap;
  expect(Object.keys(direct)).toEqual(Object.keys(xstate));
  for (const k of ["status", "output", "error", "value", "context", "children", "historyValue", "tags"]) expect(direct[k], k).toEqual(xstate[k]);
  for (const k of ["matches", "hasTag", "can", "getMeta", "toJSON"]) expect(direct[k], k).toBe(xstate[k]);
  expect(direct.machine).toBe(machine);
  expect(direct._nodes.map((n) => n.id)).toEqual(xstate._nodes.map((n) => n.id));
}

const processInput = (pid: number): ProcessInput => ({
  pid,
  ppid: 1,
  pgid: 1,
  sid: 1,
  image: imageOf("/bin/sh", ["sh"]),
  hostpid: 0,
  startTime: 7,
  delivery: 0,
});

describe("the initial snapshot made directly", () => {
  it("is taken by the process and thread machines (their start runs nothing)", () => {
    expect(startsQuietly(processMachine)).toBe(true);
    expect(startsQuietly(threadMachine)).toBe(true);
  });

  it("is xstate's initial snapshot, field by field, with the context the machine's factory makes", () => {
    compare(processMachine, processInput(42));
    compare(threadMachine, { tid: 43, pid: 42 } satisfies ThreadInput);
  });

  it("is made without xstate's microstep: a later actor shares the state list of the first", () => {
    const a = createActor(processMachine, { input: processInput(50) }).getSnapshot() as unknown as Snap;
    const b = createActor(processMachine, { input: processInput(51) }).getSnapshot() as unknown as Snap;
    expect(b._nodes).toBe(a._nodes);
    // Each its own context and its own containers.
    expect(b.context).not.toBe(a.context);
    expect(b.children).not.toBe(a.children);
    expect(b.historyValue).not.toBe(a.historyValue);
  });

  it("starts an actor that lives as xstate's would: claimed, dead, reaped, with every step recorded", () => {
    const { k, steps, child } = kernelOnly();
    child(1);
    const pid = child(1);
    const a = k.proc(pid)!;
    expect(a.getSnapshot().value).toBe("running");
    a.send({ type: "DIE", wstatus: 0, assumed: false });
    expect(a.getSnapshot().value).toBe("zombie");
    a.send({ type: "REAP" });
    expect(a.getSnapshot().status).toBe("done");
    expect(steps.filter((s) => s.startsWith(`proc:${pid} `))).toEqual([`proc:${pid} CLAIM`, `proc:${pid} DIE`, `proc:${pid} REAP`]);
  });
});
