// The consistency checker (actors/invariants.ts) against a kernel driven through the rules
// (fork.ts, sys.ts, exit.ts): it finds nothing wrong in a consistent namespace, and it finds
// a process group index (Kernel.pgrps) that disagrees with the process actors' pgid.
import { describe, expect, it } from "vitest";
import { Kernel, defaultKernelConfig } from "../../src/actors/kernel.js";
import { checkKernel } from "../../src/actors/invariants.js";
import { exitGroup, waitAttempt } from "../../src/actors/exit.js";
import { claim, fork, register } from "../../src/actors/fork.js";
import { setpgid, setsid } from "../../src/actors/sys.js";
import { WEXITED } from "../../src/machine/wstatus.js";

const hooks = { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} };

function tree() {
  const k = new Kernel(defaultKernelConfig, hooks);
  const init = register(k, 100, "/sbin/init", ["init"], 0) as { pid: number };
  expect(setsid(k, init.pid)).toBe(init.pid);
  const kids = [101, 102].map((host) => {
    const f = fork(k, init.pid) as { pid: number; token: string };
    claim(k, f.token, host);
    return f.pid;
  });
  return { k, init: init.pid, kids };
}

describe("the consistency checker", () => {
  it("finds nothing wrong across setsid, setpgid, an exit and its reaping", () => {
    const { k, init, kids } = tree();
    expect(setpgid(k, init, kids[0]!, 0)).toBe(0);
    expect(setpgid(k, init, kids[1]!, kids[0]!)).toBe(0);
    expect(checkKernel(k).problems).toEqual([]);
    exitGroup(k, kids[0]!, 0, false);
    expect(checkKernel(k).problems).toEqual([]);
    expect(waitAttempt(k, init, init, { kind: "pid", pid: kids[0]! }, WEXITED)).toMatchObject({ pid: kids[0] });
    expect(checkKernel(k).problems).toEqual([]);
    expect([...k.pgrp(kids[0]!)]).toEqual([kids[1]]);
  });

  it("reports a group index that lists a process of another group, and one that misses a process", () => {
    const { k, kids } = tree();
    // Break the index by hand (what a rule that forgot Kernel.setPgrp would leave).
    k.pgrps.get(kids[0]!) ?? k.pgrps.set(kids[0]!, new Set());
    k.pgrps.get(kids[0]!)!.add(kids[1]!);
    k.pgrps.get(1)!.delete(kids[1]!);
    const { problems } = checkKernel(k);
    expect(problems).toContain(`process ${kids[1]}: missing from the index of its process group 1`);
    expect(problems).toContain(`process group ${kids[0]} lists ${kids[1]}, whose group is 1`);
  });
});
