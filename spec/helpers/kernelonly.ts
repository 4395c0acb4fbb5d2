/**
 * A namespace's kernel alone, with no daemon and no host processes (the unit tests of
 * spec/unit): init registered, `steps` the events its actors took (as the kernel's recorders
 * see them), `child(parent)` a claimed fork child of `parent`.
 */
import { Kernel, defaultKernelConfig } from "../../src/actors/kernel.js";
import { claim, fork, register } from "../../src/actors/fork.js";

export function kernelOnly(): { k: Kernel; steps: string[]; child: (parent: number) => number } {
  const k = new Kernel(defaultKernelConfig, { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} });
  const steps: string[] = [];
  k.addRecorder((_a, id, event) => void (event !== "xstate.init" && steps.push(`${id} ${event}`)));
  register(k, 0, "/sbin/init", ["init"], 0);
  const child = (parent: number): number => {
    const f = fork(k, parent);
    if (!("pid" in f)) throw new Error(`fork from ${parent}: ${f.message}`);
    claim(k, f.token, 0);
    return f.pid;
  };
  return { k, steps, child };
}
