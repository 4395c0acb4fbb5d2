/**
 * The guest-side statechart of one call (src/client/call.ts, spec/client.md): every
 * transition, with a port that records what the machine put on the wire. The end-to-end
 * behaviour (a real daemon interrupting a parked wait4, SA_RESTART, EINTR) is in
 * spec/signals.*.test.ts and spec/core.*.test.ts; this shows the machine's own rules.
 */
import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { callMachine } from "../../src/client/call.js";
import { proxyMachine } from "../../src/client/proxy.js";
import { CALL_STATES } from "../../src/protocol/callstates.js";
import { ERESTARTSYS } from "../../src/protocol/errno.js";

function start() {
  const wire: string[] = [];
  const a = createActor(callMachine, { input: { port: { request: () => wire.push("request"), interrupt: () => wire.push("interrupt") } } });
  a.start();
  return { a, wire, state: () => a.getSnapshot().value, ctx: () => a.getSnapshot().context };
}

describe("one call's statechart", () => {
  it("has exactly the states the C client's enum is generated from", () => {
    expect(Object.keys(callMachine.config.states!).sort()).toEqual(Object.keys(CALL_STATES).sort());
  });

  it("idle → inCall → answered: the request goes out once, the result is kept", () => {
    const c = start();
    expect(c.state()).toBe("idle");
    c.a.send({ type: "SEND" });
    expect(c.state()).toBe("inCall");
    c.a.send({ type: "ANSWERED", result: 7 });
    expect(c.state()).toBe("answered");
    expect(c.a.getSnapshot().status).toBe("done");
    expect(c.wire).toEqual(["request"]);
    expect(c.ctx().result).toBe(7);
  });

  it("an errno is an answer too (a real EINTR from the daemon is not restarted)", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: true });
    c.a.send({ type: "ANSWERED", result: -4, detail: "x" });
    expect(c.state()).toBe("answered");
    expect(c.wire).toEqual(["request", "interrupt"]);
  });

  it("a signal sends the interrupt once; the call's real result wins the race (nothing lost)", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: false });
    expect(c.state()).toBe("interrupting");
    c.a.send({ type: "SIGNAL", restart: false });
    c.a.send({ type: "ANSWERED", result: 42 });
    expect(c.state()).toBe("answered");
    expect(c.wire).toEqual(["request", "interrupt"]);
  });

  it("ERESTARTSYS under SA_RESTART: sent again with a new request, then answered", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: true });
    c.a.send({ type: "ANSWERED", result: -ERESTARTSYS });
    expect(c.state()).toBe("inCall");
    expect(c.ctx().restarts).toBe(1);
    expect(c.wire).toEqual(["request", "interrupt", "request"]);
    // The restarted call can be interrupted again, by a handler without SA_RESTART this time.
    c.a.send({ type: "SIGNAL", restart: false });
    c.a.send({ type: "ANSWERED", result: BigInt(-ERESTARTSYS) });
    expect(c.state()).toBe("eintr");
    expect(c.wire).toEqual(["request", "interrupt", "request", "interrupt"]);
  });

  it("ERESTARTSYS without SA_RESTART: EINTR", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: false });
    c.a.send({ type: "ANSWERED", result: -ERESTARTSYS, detail: "interrupted" });
    expect(c.state()).toBe("eintr");
    expect(c.ctx().detail).toBe("interrupted");
  });

  it("the first signal handled decides (handle_signal), not a later one", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: false });
    c.a.send({ type: "SIGNAL", restart: true });
    c.a.send({ type: "ANSWERED", result: -ERESTARTSYS });
    expect(c.state()).toBe("eintr");
  });

  it("the caller's abort interrupts and is never restarted, whatever the handler", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "SIGNAL", restart: true });
    c.a.send({ type: "ABORT" });
    c.a.send({ type: "ANSWERED", result: -ERESTARTSYS });
    expect(c.state()).toBe("eintr");
    expect(c.wire).toEqual(["request", "interrupt"]);
  });

  it("an unasked -512 (no interrupt sent) is not restarted", () => {
    const c = start();
    c.a.send({ type: "SEND" });
    c.a.send({ type: "ANSWERED", result: -ERESTARTSYS });
    expect(c.state()).toBe("eintr");
  });

  it("the connection's end, in call or interrupting, is gone with its reason", () => {
    for (const interrupted of [false, true]) {
      const c = start();
      c.a.send({ type: "SEND" });
      if (interrupted) c.a.send({ type: "SIGNAL", restart: true });
      c.a.send({ type: "GONE", reason: "daemon gone" });
      expect(c.state()).toBe("gone");
      expect(c.ctx().reason).toBe("daemon gone");
    }
  });

  it("a signal before the call is sent interrupts nothing", () => {
    const c = start();
    c.a.send({ type: "SIGNAL", restart: false });
    expect(c.state()).toBe("idle");
    expect(c.wire).toEqual([]);
  });
});

describe("the thread proxy owns its calls", () => {
  it("a signal reaches every blocking call in flight; an ended call is dropped; GONE reaches the rest", () => {
    const wire: string[] = [];
    const port = (n: string) => ({ request: () => wire.push(`${n} request`), interrupt: () => wire.push(`${n} interrupt`) });
    const p = createActor(proxyMachine);
    p.start();
    p.send({ type: "OPEN" });
    p.send({ type: "HELLO" });
    p.send({ type: "BOUND", pid: 3, tid: 3 });
    p.send({ type: "CALL", id: "call:1", port: port("a") });
    p.send({ type: "CALL", id: "call:2", port: port("b") });
    const calls = p.getSnapshot().context.calls;
    calls["call:1"]!.send({ type: "SEND" });
    calls["call:2"]!.send({ type: "SEND" });
    p.send({ type: "SIGNAL", restart: false });
    expect(wire).toEqual(["a request", "b request", "a interrupt", "b interrupt"]);
    calls["call:1"]!.send({ type: "ANSWERED", result: 0 });
    p.send({ type: "CALL_END", id: "call:1" });
    expect(Object.keys(p.getSnapshot().context.calls)).toEqual(["call:2"]);
    p.send({ type: "GONE", reason: "closed" });
    expect(p.getSnapshot().value).toBe("gone");
    expect(calls["call:2"]!.getSnapshot().value).toBe("gone");
  });
});
