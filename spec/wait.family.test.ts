// The wait family, subreapers and auto-reap through the socket, with real guest processes.
// (The scenarios in spec/scenarios/ run the same rules against real Linux.)
import { describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";

const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WNOWAIT = 0x01000000, __WCLONE = 0x80000000 | 0, __WALL = 0x40000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2, CLD_EXITED = 1, CLD_KILLED = 2;

const ns = namespace();
const { track } = ns;

describe("wait family through the socket", () => {
  it("waitid WNOWAIT leaves the zombie; waitid reports si_* fields; wait4 then reaps it", async () => {
    const child = await track(ns.init.fork());
    await child.exit(5);
    const peek = await ns.init.ok("waitid", { idtype: P_PID, id: child.pid, options: WEXITED | WNOWAIT });
    expect(peek.result).toBe(0);
    expect(peek.out).toMatchObject({ pid: child.pid, signo: 17, status: 5, code: CLD_EXITED });
    const again = await ns.init.ok("waitid", { idtype: P_ALL, id: 0, options: WEXITED | WNOWAIT | WNOHANG });
    expect(again.out!.pid).toBe(child.pid);
    const r = await ns.init.ok("wait4", { pid: child.pid, options: 0 });
    expect(r.result).toBe(child.pid);
    expect(r.out!.wstatus).toBe(5 << 8);
    expect((await ns.init.call("wait4", { pid: child.pid, options: 0 })).code).toBe("ECHILD");
  });

  it("EINVAL exactly as kernel_wait4 / kernel_waitid give it", async () => {
    expect((await ns.init.call("wait4", { pid: -1, options: WNOWAIT })).code).toBe("EINVAL");
    expect((await ns.init.call("wait4", { pid: -1, options: WEXITED })).code).toBe("EINVAL");
    expect((await ns.init.call("wait4", { pid: -0x80000000, options: 0 })).code).toBe("ESRCH");
    expect((await ns.init.call("waitid", { idtype: P_ALL, id: 0, options: WNOHANG })).code).toBe("EINVAL");
    expect((await ns.init.call("waitid", { idtype: P_PID, id: 0, options: WEXITED })).code).toBe("EINVAL");
    expect((await ns.init.call("waitid", { idtype: P_PGID, id: -1, options: WEXITED })).code).toBe("EINVAL");
    expect((await ns.init.call("waitid", { idtype: 7, id: 0, options: WEXITED })).code).toBe("EINVAL");
    // no children at all: ECHILD, even with WNOHANG
    const lone = await track(ns.init.fork());
    expect((await lone.call("waitid", { idtype: P_ALL, id: 0, options: WEXITED | WNOHANG })).code).toBe("ECHILD");
    await lone.exit(0);
    await ns.init.ok("wait4", { pid: lone.pid, options: 0 });
  });

  it("__WCLONE sees no fork child (ECHILD); __WALL sees it; a signal death is CLD_KILLED", async () => {
    const child = await track(ns.init.fork());
    expect((await ns.init.call("wait4", { pid: child.pid, options: __WCLONE | WNOHANG })).code).toBe("ECHILD");
    expect((await ns.init.ok("wait4", { pid: child.pid, options: __WALL | WNOHANG })).result).toBe(0);
    const w = ns.init.call("waitid", { idtype: P_PID, id: child.pid, options: WEXITED | __WALL });
    await child.kill("SIGKILL");
    const r = await w;
    expect(r.out).toMatchObject({ pid: child.pid, status: 9, code: CLD_KILLED });
  });

  it("a waitid for stops only does not reap a zombie; the zombie alone gives ECHILD", async () => {
    const child = await track(ns.init.fork());
    await child.exit(1);
    expect((await ns.init.call("waitid", { idtype: P_PID, id: child.pid, options: WUNTRACED | WNOHANG })).code).toBe("ECHILD");
    expect((await ns.init.ok("wait4", { pid: child.pid, options: 0 })).out!.wstatus).toBe(1 << 8);
  });

  it("orphans go to the nearest live subreaper; PR_GET_CHILD_SUBREAPER reads the flag", async () => {
    const a = await track(ns.init.fork());
    expect((await a.ok("prctl_get_child_subreaper")).result).toBe(0);
    await a.ok("prctl_set_child_subreaper", { value: 7 });
    expect((await a.ok("prctl_get_child_subreaper")).result).toBe(1);
    const b = await track(a.fork());
    // not inherited at fork
    expect((await b.ok("prctl_get_child_subreaper")).result).toBe(0);
    const c = await track(b.fork());
    await b.exit(2);
    expect((await c.ok("getppid")).result).toBe(a.pid);
    expect((await a.ok("wait4", { pid: b.pid, options: 0 })).out!.wstatus).toBe(2 << 8);
    await c.exit(4);
    expect((await a.ok("wait4", { pid: -1, options: 0 })).result).toBe(c.pid);
    await a.exit(0);
    await ns.init.ok("wait4", { pid: a.pid, options: 0 });
  });

  it("SIGCHLD ignored: no zombie is left and a blocked wait ends with ECHILD once all children are gone", async () => {
    const p = await track(ns.init.fork());
    await p.ok("rt_sigaction", { signo: 17, handler: 1, flags: 0 });
    const c1 = await track(p.fork());
    const c2 = await track(p.fork());
    const w = p.call("wait4", { pid: -1, options: 0 });
    await c1.exit(1);
    await c2.exit(2);
    expect((await w).code).toBe("ECHILD");
    // SA_NOCLDWAIT with SIG_DFL does the same
    await p.ok("rt_sigaction", { signo: 17, handler: 0, flags: 2 });
    const c3 = await track(p.fork());
    await c3.exit(3);
    expect((await p.call("wait4", { pid: -1, options: WNOHANG })).code).toBe("ECHILD");
    await p.exit(0);
    await ns.init.ok("wait4", { pid: p.pid, options: 0 });
  });

  it("an interrupted wait returns EINTR and loses no zombie", async () => {
    const child = await track(ns.init.fork());
    const { id, reply } = ns.init.send("wait4", { pid: child.pid, options: 0 });
    ns.init.abort(id);
    expect((await reply).code).toBe("EINTR");
    await child.exit(6);
    expect((await ns.init.ok("wait4", { pid: child.pid, options: 0 })).out!.wstatus).toBe(6 << 8);
  });
});
