/**
 * Protocol fuzzing at CI size (the long run is `npm run fuzz -- --frames 1000000`): generated
 * hostile frames over the real socket of a real daemon process, a steady guest alongside.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runFuzz } from "../fuzz/engine.js";
import type { Daemon } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 15000);

const { hostpid, daemon } = hardenSetup("fuzz");
let d: Daemon;
beforeAll(async () => {
  d = await daemon();
});

describe("protocol fuzzing", () => {
  it(`${FRAMES} hostile frames: each gets its error reply or closes only its connection; the steady guest sees every call answered; the daemon stays up and consistent`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const r = await runFuzz({ socket: d.socket, frames: FRAMES, seed, workers: 3, hostpid: hostpid() });
    expect(r.failures, `seed ${seed}`).toEqual([]);
    expect(r.check.problems, `seed ${seed}`).toEqual([]);
    expect(d.internalErrors).toEqual([]);
    expect(d.proc.exitCode).toBe(null);
    // The run exercised what it claims to.
    expect(r.stats.frames).toBeGreaterThanOrEqual(FRAMES);
    expect(r.stats.fatalCloses).toBeGreaterThan(0);
    expect(r.stats.exactChecks).toBeGreaterThan(FRAMES / 4);
    expect(r.stats.parkedAnswered).toBeGreaterThan(0);
    expect(r.stats.steadyInterrupts).toBeGreaterThan(0);
    expect(r.check.counts.processes).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe("what the fuzzer found", () => {
  it("an unclaimed thread's token dies with the thread when the process execs (no claim of a gone thread, no double count)", async () => {
    const { ClientConnection } = await import("../src/client/connection.js");
    const { Control } = await import("../src/client/control.js");
    // The fuzz run above ended its namespace (its PID 1 left): a fresh daemon.
    const d = await daemon();
    const p = await ClientConnection.open(d.socket);
    await p.hello("guest", "regression");
    await p.call("register", { hostpid: hostpid(), exe: "/x", argv: ["x"], delivery: 0 });
    const t = await p.call("thread_create", {});
    await p.call("execve", { exe: "/y", argv: ["y"] });
    const q = await ClientConnection.open(d.socket);
    await q.hello("guest", "regression claimer");
    await expect(q.call("claim", { token: t.out.token, hostpid: hostpid() })).rejects.toMatchObject({ errno: 2 });
    const ctl = await Control.connect(d.socket);
    expect((await ctl.check()).problems).toEqual([]);
    for (const c of [p, q]) c.close();
    ctl.close();
    await d.stop();
  });
});

describe("what the fuzzer found (2)", () => {
  it("a thread's exit is the process's end when only unclaimed threads remain (they never ran): no process is left running with no thread", async () => {
    const { ClientConnection } = await import("../src/client/connection.js");
    const { Control } = await import("../src/client/control.js");
    const d = await daemon();
    const init = await ClientConnection.open(d.socket);
    await init.hello("guest", "init");
    await init.call("register", { hostpid: hostpid(), exe: "/init", argv: ["init"], delivery: 0 });
    const p = await ClientConnection.open(d.socket);
    await p.hello("guest", "p");
    const pid = (await p.call("register", { hostpid: hostpid(), exe: "/p", argv: ["p"], delivery: 0 })).result;
    await p.call("thread_create", {});
    await p.call("exit", { status: 5 });
    const ctl = await Control.connect(d.socket);
    expect((await ctl.ps()).map((x) => x.pid)).not.toContain(pid);
    expect((await ctl.check()).problems).toEqual([]);
    for (const c of [p, init]) c.close();
    ctl.close();
    await d.stop();
  });
});
