// The process machine's context: its size stays within V8's fast-object limit, and the
// grouped values (image, flags, sigactions, job) are replaced whole, never changed in place,
// so a forked child that shares its parent's can diverge without touching the parent.
import { describe, expect, it } from "vitest";
import { Kernel, defaultKernelConfig } from "../../src/actors/kernel.js";
import { exitGroup, reportStatus } from "../../src/actors/exit.js";
import { execve } from "../../src/actors/exec.js";
import { claim, fork, register } from "../../src/actors/fork.js";

const hooks = { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} };
const SIGCHLD = 17;
const SIGUSR1 = 10;
const SA_NOCLDSTOP = 1;

function tree() {
  const k = new Kernel(defaultKernelConfig, hooks);
  const init = register(k, 100, "/sbin/init", ["init"], 0) as { pid: number };
  const f = fork(k, init.pid) as { pid: number; token: string };
  claim(k, f.token, 101);
  return { k, init: init.pid, child: f.pid };
}

describe("process context", () => {
  // xstate's assign builds each context with Object.assign({}, context, update); V8 (Node 20)
  // makes an object built that way with 20 or more properties a dictionary (bench/README.md).
  // 19 with the leader thread's state (machine/process.ts, `leader`); 20 would be a dictionary.
  it("has at most 19 top-level fields in every state it goes through", () => {
    const { k, init, child } = tree();
    const p = k.proc(child)!;
    const sizes: number[] = [Object.keys(k.ctx(child)!).length];
    p.send({ type: "SIGACTION", signo: SIGCHLD, handler: 2, flags: SA_NOCLDSTOP });
    p.send({ type: "SET_COMM", comm: "worker" });
    p.send({ type: "SET_SUBREAPER", on: true });
    p.send({ type: "STOP", signo: 19 });
    p.send({ type: "WAIT_REPORT", report: { kind: "stopped", signo: 19 } });
    p.send({ type: "CONT" });
    sizes.push(Object.keys(k.ctx(child)!).length);
    execve(k, child, child, "/bin/true", ["true"]);
    exitGroup(k, child, 9, true);
    reportStatus(k, child, 0);
    sizes.push(Object.keys(k.ctx(child)!).length, Object.keys(k.ctx(init)!).length);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(19);
  });

  it("a forked child shares its parent's signal actions until either changes them", () => {
    const { k, init } = tree();
    k.proc(init)!.send({ type: "SIGACTION", signo: SIGCHLD, handler: 1, flags: SA_NOCLDSTOP });
    const f = fork(k, init) as { pid: number; token: string };
    claim(k, f.token, 102);
    k.proc(f.pid)!.send({ type: "SIGACTION", signo: SIGCHLD, handler: 0, flags: 0 });
    k.proc(f.pid)!.send({ type: "SIGACTION", signo: SIGUSR1, handler: 2, flags: 0 });
    const parent = k.ctx(init)!.sigactions;
    expect(parent.ignored).toBe(1n << BigInt(SIGCHLD - 1));
    expect(parent.caught).toBe(0n);
    expect([...parent.flags]).toEqual([[SIGCHLD, SA_NOCLDSTOP]]);
    const c = k.ctx(f.pid)!.sigactions;
    expect(c.ignored).toBe(0n);
    expect(c.caught).toBe(1n << BigInt(SIGUSR1 - 1));
    expect([...c.flags]).toEqual([]);
  });

  it("execve resets handled signals and their flags, keeps ignored ones, and changes only the caller's image", () => {
    const { k, init, child } = tree();
    const p = k.proc(child)!;
    p.send({ type: "SIGACTION", signo: SIGCHLD, handler: 1, flags: SA_NOCLDSTOP });
    p.send({ type: "SIGACTION", signo: SIGUSR1, handler: 2, flags: 4 });
    execve(k, child, child, "/usr/bin/a-very-long-program-name", ["x"]);
    const c = k.ctx(child)!;
    expect(c.sigactions.ignored).toBe(1n << BigInt(SIGCHLD - 1));
    expect(c.sigactions.caught).toBe(0n);
    expect([...c.sigactions.flags]).toEqual([[SIGCHLD, SA_NOCLDSTOP]]);
    expect(c.image).toEqual({ exe: "/usr/bin/a-very-long-program-name", argv: ["x"], comm: "a-very-long-pro" });
    expect(c.flags.execed).toBe(true);
    expect(k.ctx(init)!.image).toEqual({ exe: "/sbin/init", argv: ["init"], comm: "init" });
    expect(k.ctx(init)!.flags.execed).toBe(false);
  });

  it("an assumed status is corrected once by the reaper's report; a known one is not", () => {
    const { k, init, child } = tree();
    exitGroup(k, child, 9, true);
    expect(k.ctx(child)!.flags.statusAssumed).toBe(true);
    reportStatus(k, child, 3 << 8);
    expect(k.ctx(child)).toMatchObject({ wstatus: 3 << 8, flags: { statusAssumed: false } });
    reportStatus(k, child, 9);
    expect(k.ctx(child)!.wstatus).toBe(3 << 8);
    const f = fork(k, init) as { pid: number; token: string };
    claim(k, f.token, 103);
    exitGroup(k, f.pid, 0, false);
    reportStatus(k, f.pid, 9);
    expect(k.ctx(f.pid)).toMatchObject({ wstatus: 0, flags: { statusAssumed: false } });
  });
});
