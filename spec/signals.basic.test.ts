import { describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";
import { EV } from "../src/protocol/messages.js";

const ns = namespace();
const { track } = ns;

describe("signals through the socket", () => {
  it("setpgid, a handled signal as an event, SIGSTOP and SIGCONT reported to the parent as SIGCHLD, SIGTERM kills", async () => {
    const { init } = ns;
    const c = await track(init.fork({ exec: false }));
    expect((await init.call("setpgid", { pid: c.pid, pgid: 0 })).ok).toBe(true);
    expect((await c.ok("getpgrp")).result).toBe(c.pid);
    expect((await c.call("setsid")).code).toBe("EPERM");
    await init.ok("rt_sigaction", { signo: 17, handler: 2, flags: 0 });
    await c.ok("rt_sigaction", { signo: 10, handler: 2, flags: 0 });
    expect((await init.call("kill", { pid: c.pid, sig: 10 })).ok).toBe(true);
    const e = await c.waitEvent((e) => e.event === EV.SIGNAL);
    expect(e.fields.slice(0, 3)).toEqual([10, 1, 0]);
    await init.ok("kill", { pid: c.pid, sig: 19 });
    const st = await init.waitEvent((e) => e.event === EV.SIGNAL && e.fields[2] === 5);
    expect(st.fields).toEqual([17, c.pid, 5, process.getuid!(), 19]); // si_uid: the child's real uid, the runner's
    await init.ok("kill", { pid: c.pid, sig: 18 });
    expect((await c.ok("getpid")).result).toBe(c.pid);
    await init.ok("kill", { pid: c.pid, sig: 15 });
    const w2 = await init.ok("wait4", { pid: c.pid, options: 0 });
    expect(w2.out!.wstatus).toBe(15);
  });
});
