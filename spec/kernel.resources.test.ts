import { describe, expect, it } from "vitest";
import { Kernel, defaultKernelConfig } from "../src/actors/kernel.js";
import { exitGroup } from "../src/actors/exit.js";
import { execNative, execve } from "../src/actors/exec.js";
import { fork, forkAbort, register } from "../src/actors/fork.js";

function kernel(): { k: Kernel; log: string[] } {
  const log: string[] = [];
  const k = new Kernel(defaultKernelConfig, { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} });
  k.addResource({
    onFork: (p, c) => log.push(`fork ${p}->${c}`),
    onExec: (pid) => log.push(`exec ${pid}`),
    onExit: (pid) => log.push(`exit ${pid}`),
  });
  return { k, log };
}

describe("kernel resource hooks", () => {
  it("fork, exec, exit, fork abort and exec into native code reach every registered resource", () => {
    const { k, log } = kernel();
    register(k, 4242, "/bin/init", ["init"], 0);
    const a = fork(k, 1);
    const b = fork(k, 1);
    if (!("pid" in a) || !("pid" in b)) throw new Error("fork failed");
    k.proc(a.pid)!.send({ type: "CLAIM", hostpid: 4243 });
    expect(execve(k, a.pid, a.pid, "/bin/x", ["x"])).toBe(a.pid);
    expect(forkAbort(k, 1, b.pid)).toBe(0);
    exitGroup(k, a.pid, 0, false);
    const c = fork(k, 1);
    if (!("pid" in c)) throw new Error("fork failed");
    k.proc(c.pid)!.send({ type: "CLAIM", hostpid: 4244 });
    expect(execNative(k, c.pid, "/bin/true", ["true"])).toBe(0);
    expect(log).toEqual(["fork 1->2", "fork 1->3", "exec 2", "exit 3", "exit 2", "fork 1->4", "exit 4"]);
  });

  it("init's death releases every process's resources", () => {
    const { k, log } = kernel();
    register(k, 4242, "/bin/init", ["init"], 0);
    fork(k, 1);
    log.length = 0;
    exitGroup(k, 1, 0, false);
    expect(log).toContain("exit 1");
    expect(log).toContain("exit 2");
  });
});
