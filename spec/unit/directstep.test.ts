/**
 * The events a process or thread actor takes without xstate's macrostep
 * (src/machine/directstep.ts): in every state where one is taken so, the actor's snapshot, its
 * inspection events (but the microstep's) and its end must be those of the same actor on a
 * copy of the machine without the shortcut (`provide({})`, xstate's own transition); only
 * steps the start-up check proves simple qualify; and the microstep is indeed skipped.
 */
import { describe, expect, it } from "vitest";
import { assign, createActor, setup, raise, type AnyStateMachine, type InspectionEvent } from "xstate";
import { processMachine, imageOf, type ProcessInput } from "../../src/machine/process.js";
import { threadMachine } from "../../src/machine/thread.js";
import { directStep } from "../../src/machine/directstep.js";
import { EMPTY_QUEUE, SI, SIG, enqueue } from "../../src/machine/sigset.js";

const input: ProcessInput = { pid: 42, ppid: 1, pgid: 1, sid: 1, image: imageOf("/bin/sh", ["sh"]), hostpid: 0, startTime: 7, delivery: 0 };

const pending = enqueue(EMPTY_QUEUE, { signo: SIG.SIGCHLD, code: SI.USER, pid: 43, uid: 0, status: 0 }, 64);

type Snap = Record<string, unknown>;
type Ev = { type: string } & Record<string, unknown>;

const PENDING: Ev = { type: "PENDING", pending };
const CLAIM: Ev = { type: "CLAIM", hostpid: 99 };
const EXEC: Ev = { type: "EXEC", exe: "/bin/true", argv: ["true", "x"] };
const DIE: Ev = { type: "DIE", wstatus: 9, assumed: false };
const DIE_ASSUMED: Ev = { type: "DIE", wstatus: 9, assumed: true };
const REAP: Ev = { type: "REAP" };
// a posix_spawn child's resets (SIGCHLD's handler to SIG_DFL, glibc's 32 to SIG_IGN) and a set one; an environment's report
const SIGACTIONS: Ev[] = [
  { type: "SIGACTION", signo: SIG.SIGCHLD, handler: 2, flags: 4 },
  { type: "SIGACTION", signo: SIG.SIGCHLD, handler: 0, flags: 0 },
  { type: "SIGACTION", signo: 32, handler: 1, flags: 0 },
];
const INFO: Ev = { type: "INFO", info: { environ: new Uint8Array([65, 61, 49, 0]), cwd: "/tmp" } };

/** Everything a snapshot holds but its machine, whose nodes are compared by id. */
function fields(s: Snap): Snap {
  const o: Snap = {};
  for (const [k, v] of Object.entries(s)) if (k !== "machine") o[k] = k === "_nodes" ? (v as { id: string }[]).map((n) => n.id) : v;
  return o;
}

/** An actor of `machine` and one of xstate's own copy, each recording its inspection events (the microsteps left out) and whether it completed. */
function pair(machine: AnyStateMachine, actorInput: object) {
  const make = (m: AnyStateMachine) => {
    const seen: string[] = [];
    const a = createActor(m, {
      input: actorInput,
      inspect: (e: InspectionEvent) => {
        if (e.type === "@xstate.microstep") return;
        seen.push(e.type === "@xstate.action" ? `action ${e.action.type}` : e.type === "@xstate.snapshot" ? `snapshot ${e.event.type}` : e.type);
      },
    });
    let done = false;
    a.subscribe({ complete: () => void (done = true) });
    a.start();
    return { a, seen, done: () => done };
  };
  return { direct: make(machine), xstate: make(machine.provide({})) };
}

/** Both actors take `events`; after each, their snapshots, inspections and ends are the same. */
function compare(machine: AnyStateMachine, actorInput: object, events: Ev[]): void {
  const { direct, xstate } = pair(machine, actorInput);
  for (const e of events) {
    direct.a.send(e as never);
    xstate.a.send(e as never);
    const d = direct.a.getSnapshot() as unknown as Snap;
    const x = xstate.a.getSnapshot() as unknown as Snap;
    expect(Object.keys(d), e.type).toEqual(Object.keys(x));
    expect(fields(d), e.type).toEqual(fields(x));
    expect(d.machine, e.type).toBe(machine);
    expect(direct.seen, e.type).toEqual(xstate.seen);
    expect(direct.done(), e.type).toBe(xstate.done());
  }
}

describe("events taken without the macrostep", () => {
  it("qualify only where one unguarded transition assigns or runs plain actions, into a quiet sibling state", () => {
    expect(directStep(processMachine, "running", "PENDING")?.actions).toHaveLength(1);
    expect(directStep(processMachine, "embryo", "CLAIM")?.target?.node.key).toBe("running");
    expect(directStep(processMachine, "running", "EXEC")?.target).toBeUndefined();
    expect(directStep(processMachine, "running", "DIE")?.actions).toHaveLength(2);
    expect(directStep(processMachine, "zombie", "REAP")?.target?.final).toBe(true);
    for (const state of ["embryo", "running", "native", "zombie"]) {
      expect(directStep(processMachine, state, "SIGACTION")?.actions, `SIGACTION in ${state}`).toHaveLength(1);
      expect(directStep(processMachine, state, "INFO")?.actions, `INFO in ${state}`).toHaveLength(1);
    }
    expect(directStep(threadMachine, "running", "PENDING")?.actions).toHaveLength(1);
    expect(directStep(threadMachine, "embryo", "CLAIM")?.target?.node.key).toBe("running");
    expect(directStep(processMachine, "running", "SET_WAITING"), "guarded").toBeUndefined();
    expect(directStep(processMachine, "zombie", "CORRECT_STATUS"), "guarded").toBeUndefined();
    expect(directStep(processMachine, "embryo", "EXEC"), "not taken there").toBeUndefined();
    expect(directStep(processMachine, "reaped", "PENDING"), "a final state").toBeUndefined();
    expect(directStep(processMachine, "running", "FORGET_CHILDREN"), "enqueueActions").toBeUndefined();

    const quiet = { entry: [] as never[] };
    const m = (config: object): AnyStateMachine =>
      setup({ actions: { a: assign({ n: 1 }), r: raise({ type: "X" }) } }).createMachine({ context: { n: 0 }, initial: "s", ...config } as never) as unknown as AnyStateMachine;
    const two = (s: object, t: object, on: object = { E: { target: "t", actions: "a" } }) => m({ states: { s: { on, ...s }, t } });
    expect(directStep(two({}, quiet), "s", "E"), "the plain case").toBeDefined();
    expect(directStep(two({}, { entry: "a" }), "s", "E"), "an entry action").toBeUndefined();
    expect(directStep(two({ exit: "a" }, {}), "s", "E"), "an exit action").toBeUndefined();
    expect(directStep(two({}, { type: "final", exit: "a" }), "s", "E"), "a final state's exit action").toBeUndefined();
    expect(directStep(two({}, {}, { E: { target: "t", actions: "r" } }), "s", "E"), "raise").toBeUndefined();
    expect(directStep(two({}, {}, { E: { target: "t", actions: { type: "a", params: {} } } }), "s", "E"), "params").toBeUndefined();
    expect(directStep(two({}, {}, { E: { target: "s", actions: "a" } }), "s", "E"), "a self-transition").toBeUndefined();
    expect(directStep(two({}, { always: { target: "s" } }), "s", "E"), "an eventless transition").toBeUndefined();
    expect(directStep(two({ on: { E: { target: "t" }, "*": {} } }, {}), "s", "E"), "a wildcard").toBeUndefined();
    expect(directStep(two({}, { initial: "u", states: { u: {} } }), "s", "E"), "a nested state").toBeUndefined();
    expect(directStep(m({ on: { E: ".t" }, states: { s: {}, t: {} } }), "s", "E"), "a target from the root").toBeUndefined();
    expect(directStep(m({ output: () => 1, states: { s: { on: { E: "t" } }, t: { type: "final" } } }), "s", "E"), "a machine with output").toBeUndefined();
  });

  it("make xstate's snapshots, inspections and end in every state that takes them", () => {
    compare(processMachine, input, [PENDING, CLAIM, PENDING, EXEC, EXEC, DIE, PENDING, REAP]);
    compare(processMachine, input, [DIE_ASSUMED, REAP]);
    compare(processMachine, input, [CLAIM, { type: "EXEC_NATIVE", exe: "/bin/x", argv: ["x"] }, PENDING, DIE, REAP]);
    compare(processMachine, input, [CLAIM, { type: "SIGACTION", signo: SIG.SIGCHLD, handler: 2, flags: 4 }, EXEC, { type: "STOP", signo: SIG.SIGSTOP }, DIE]);
    compare(processMachine, input, [REAP, EXEC, { type: "ABORT" }]);
    compare(processMachine, input, [...SIGACTIONS, INFO, CLAIM, ...SIGACTIONS, INFO, EXEC, INFO, ...SIGACTIONS, DIE, ...SIGACTIONS, INFO, REAP]);
    compare(processMachine, input, [CLAIM, { type: "EXEC_NATIVE", exe: "/bin/x", argv: ["x"] }, ...SIGACTIONS, INFO, DIE]);
    compare(threadMachine, { tid: 43, pid: 42 }, [PENDING, { type: "CLAIM" }, PENDING, { type: "EXIT" }]);
    compare(threadMachine, { tid: 43, pid: 42 }, [{ type: "EXIT" }]);
  });

  it("keep the actor's own step (its event, action and snapshot inspections) and take no microstep", () => {
    const seen: string[] = [];
    const a = createActor(processMachine, { input, inspect: (e: InspectionEvent) => void seen.push(e.type) }).start();
    for (const e of [PENDING, CLAIM, ...SIGACTIONS, INFO, EXEC, DIE, REAP]) {
      seen.length = 0;
      a.send(e as never);
      expect(seen, e.type).toEqual(e === DIE ? ["@xstate.event", "@xstate.action", "@xstate.snapshot"] : ["@xstate.event", "@xstate.snapshot"]);
    }
    expect(a.getSnapshot().status).toBe("done");
    const t = createActor(threadMachine, { input: { tid: 43, pid: 42 }, inspect: (e: InspectionEvent) => void seen.push(e.type) }).start();
    for (const e of [{ type: "CLAIM" }, PENDING, { type: "EXIT" }]) {
      seen.length = 0;
      t.send(e as never);
      expect(seen, `thread ${e.type}`).toEqual(["@xstate.event", "@xstate.snapshot"]);
    }
    expect(t.getSnapshot().status).toBe("done");
  });
});
