// Stop and continue reports (set by the signal family) as wait consumes them, at the
// kernel level: WUNTRACED / WCONTINUED, WNOWAIT, and the status words.
import { describe, expect, it } from "vitest";
import { Kernel, defaultKernelConfig } from "../../src/actors/kernel.js";
import { exitGroup, waitAttempt } from "../../src/actors/exit.js";
import { claim, fork, register } from "../../src/actors/fork.js";
import { WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED } from "../../src/machine/wstatus.js";
import { SI } from "../../src/machine/sigset.js";

const { CLD_STOPPED, CLD_CONTINUED } = SI;

const hooks = { killHost: () => {}, namespaceOver: () => {}, threadGone: () => {} };

function tree() {
  const k = new Kernel(defaultKernelConfig, hooks);
  const init = register(k, 100, "/init", ["init"], 0) as { pid: number };
  const f = fork(k, init.pid) as { pid: number; token: string };
  claim(k, f.token, 101);
  return { k, init: init.pid, child: f.pid };
}

describe("stopped and continued reports", () => {
  it("WUNTRACED reports (sig << 8) | 0x7f once; WNOWAIT leaves it", () => {
    const { k, init, child } = tree();
    k.proc(child)!.send({ type: "WAIT_REPORT", report: { kind: "stopped", signo: 19 } });
    expect(waitAttempt(k, init, init, { kind: "any" }, WEXITED | WNOHANG)).toBe(0);
    const peek = waitAttempt(k, init, init, { kind: "any" }, WUNTRACED | WNOWAIT | WNOHANG);
    expect(peek).toMatchObject({ pid: child, code: CLD_STOPPED, status: 19 });
    const r = waitAttempt(k, init, init, { kind: "any" }, WEXITED | WUNTRACED | WNOHANG);
    expect(r).toMatchObject({ pid: child, wstatus: (19 << 8) | 0x7f });
    expect(waitAttempt(k, init, init, { kind: "any" }, WEXITED | WUNTRACED | WNOHANG)).toBe(0);
  });

  it("WCONTINUED reports 0xffff and si_status SIGCONT; an exit clears a report not collected", () => {
    const { k, init, child } = tree();
    k.proc(child)!.send({ type: "WAIT_REPORT", report: { kind: "continued", signo: 18 } });
    expect(waitAttempt(k, init, init, { kind: "pid", pid: child }, WEXITED | WUNTRACED | WNOHANG)).toBe(0);
    expect(waitAttempt(k, init, init, { kind: "pid", pid: child }, WCONTINUED | WNOHANG)).toMatchObject({ pid: child, wstatus: 0xffff, code: CLD_CONTINUED, status: 18 });
    k.proc(child)!.send({ type: "WAIT_REPORT", report: { kind: "stopped", signo: 20 } });
    exitGroup(k, child, 9, false);
    // only a zombie is left: without WEXITED it does not count (ECHILD)
    expect(waitAttempt(k, init, init, { kind: "any" }, WUNTRACED | WNOHANG)).toMatchObject({ code: 10 });
    expect(waitAttempt(k, init, init, { kind: "any" }, WEXITED | WUNTRACED | WNOHANG)).toMatchObject({ pid: child, wstatus: 9 });
  });
});
