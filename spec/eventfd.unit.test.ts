import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { EFD_MAX, eventfdMachine } from "../src/machine/eventfd.js";
import { Files } from "../src/actors/files.js";
import { Errno } from "../src/protocol/errno.js";

describe("eventfd machine", () => {
  it("moves between empty, readable and saturated by the counter; semaphore reads take 1", () => {
    const a = createActor(eventfdMachine, { input: { id: 1, count: 2n, semaphore: true } }).start();
    const state = () => (a.getSnapshot().value as { open: string }).open;
    expect(state()).toBe("readable");
    a.send({ type: "READ" });
    expect(a.getSnapshot().context.last).toEqual({ ok: true, value: 1n });
    a.send({ type: "READ" });
    expect(state()).toBe("empty");
    a.send({ type: "READ" });
    expect(a.getSnapshot().context.last).toEqual({ ok: false });
    a.send({ type: "WRITE", value: EFD_MAX });
    expect(state()).toBe("saturated");
    a.send({ type: "WRITE", value: 1n });
    expect(a.getSnapshot().context.last).toEqual({ ok: false });
    expect(a.getSnapshot().context.count).toBe(EFD_MAX);
    a.send({ type: "FREE" });
    expect(a.getSnapshot().status).toBe("done");
  });
});

describe("file limits", () => {
  it("ENFILE when the namespace's open files reach file-max; EMFILE comes first; a close frees a slot", () => {
    const f = new Files({ maxFdsPerProcess: 2, maxFiles: 3 });
    expect(f.createEventfd(1, 0n, false, false, false)).toBe(0);
    expect(f.createEventfd(1, 0n, false, false, false)).toBe(1);
    expect((f.createEventfd(1, 0n, false, false, false) as Errno).code).toBe(24);
    expect(f.createEventfd(2, 0n, false, false, false)).toBe(0);
    expect((f.createEventfd(2, 0n, false, false, false) as Errno).code).toBe(23);
    expect(f.open).toBe(3);
    f.onExit(1);
    expect(f.open).toBe(1);
    expect(f.createEventfd(2, 0n, false, false, false)).toBe(1);
  });
});
