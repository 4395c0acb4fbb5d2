/**
 * Cooperative ptrace through the socket (spec/ptrace.md), with two delivery-0 agents: the
 * tracee is told of its stop by a PTRACE_STOP event and answers the tracer's PEEKDATA with
 * ptrace_serve; the tracer's wait4 sees the signal-delivery stop, /proc shows TracerPid and
 * state t, GETSIGINFO is the daemon's, an interrupted request is not answered, CONT lets the
 * tracee's ptrace_serve return, and the tracer collects its exit.
 */
import { describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";
import { EV } from "../src/protocol/messages.js";

const ns = namespace();
const { track } = ns;
const NONE = Buffer.alloc(0);
const req = (request: number, pid: number, addr = 0n, data = 0n, bytes = NONE) => ({ request, pid, addr, data, bytes });

describe("ptrace between two guests through the daemon", () => {
  it("TRACEME, a signal-delivery stop, a PEEKDATA the tracee answers, CONT and the exit", async () => {
    const { init } = ns;
    const c = await track(init.fork({ exec: false }));
    expect((await c.ok("ptrace", req(0, 0))).result).toBe(0);
    expect((await c.call("ptrace", req(0, 0))).code).toBe("EPERM");
    // Not stopped yet: ESRCH (ptrace_check_attach).
    expect((await init.call("ptrace", req(2, c.pid, 0x1000n))).code).toBe("ESRCH");
    await c.ok("kill", { pid: c.pid, sig: 19 });
    await c.waitEvent((e) => e.event === EV.PTRACE_STOP);
    const w = await init.ok("wait4", { pid: c.pid, options: 0 });
    expect(w.out!.wstatus).toBe(0x137f);
    const status = String((await init.ok("proc_read", { path: `${c.pid}/status` })).out!.data);
    expect(status).toMatch(/^State:\tt \(tracing stop\)$/m);
    expect(status).toMatch(/^TracerPid:\t1$/m);
    const si = (await init.ok("ptrace", req(0x4202, c.pid))).out!.bytes as Buffer;
    expect([si.readInt32LE(0), si.readInt32LE(8), si.readInt32LE(16)]).toEqual([19, 0, c.pid]);
    // A request the tracer gives up on (interrupted) before the tracee took it is not offered.
    const gone = init.send("ptrace", req(2, c.pid, 0x2000n));
    init.abort(gone.id);
    expect((await gone.reply).code).toBe("EINTR");
    // The tracer's PEEKDATA parks until the tracee answers it.
    const peek = init.send("ptrace", req(2, c.pid, 0x1000n));
    const r = await c.ok("ptrace_serve", { id: 0, result: 0n, value: 0n, bytes: NONE });
    expect(r.result).toBe(2);
    expect(BigInt(r.out!.addr as bigint)).toBe(0x1000n);
    const next = c.send("ptrace_serve", { id: r.out!.id, result: 0n, value: 0xdeadbeefn, bytes: NONE });
    const p = await peek.reply;
    expect(p.ok).toBe(true);
    expect(BigInt(p.out!.value as bigint)).toBe(0xdeadbeefn);
    // CONT: the tracee's parked ptrace_serve returns 0 (run on), with its options.
    await init.ok("ptrace", req(7, c.pid));
    const run = await next.reply;
    expect(run.result).toBe(0);
    expect(run.out!.options).toBe(0);
    expect(run.out!.signo).toBe(0);
    expect((await init.call("ptrace", req(7, c.pid))).code).toBe("ESRCH");
    await c.exit(3);
    const e = await init.ok("wait4", { pid: c.pid, options: 0 });
    expect(e.out!.wstatus).toBe(3 << 8);
  });

  it("SEIZE and INTERRUPT: PTRACE_EVENT_STOP through waitid as CLD_TRAPPED; a tracer that is not the parent sees the exit first", async () => {
    const { init } = ns;
    const tracer = await track(init.fork({ exec: false }));
    const c = await track(init.fork({ exec: false }));
    await tracer.ok("ptrace", req(0x4206, c.pid, 0n, 0x100000n)); // SEIZE with PTRACE_O_EXITKILL
    expect((await tracer.call("ptrace", req(0x4206, c.pid))).code).toBe("EPERM");
    await tracer.ok("ptrace", req(0x4207, c.pid)); // INTERRUPT
    await c.waitEvent((e) => e.event === EV.PTRACE_STOP);
    const w = await tracer.ok("waitid", { idtype: 1, id: c.pid, options: 4 }); // WEXITED only: ptrace stops need no WSTOPPED
    expect(w.out).toMatchObject({ pid: c.pid, signo: 17, code: 4, status: 5 | (128 << 8) });
    // The real parent sees nothing of the stop.
    expect((await init.ok("wait4", { pid: c.pid, options: 1 | 2 })).result).toBe(0);
    await tracer.ok("ptrace", req(7, c.pid));
    await c.exit(4);
    // The tracer collects the exit first; the real parent then reaps it.
    const t = await tracer.ok("wait4", { pid: c.pid, options: 0 });
    expect(t.out!.wstatus).toBe(4 << 8);
    const p = await init.ok("wait4", { pid: c.pid, options: 0 });
    expect(p.out!.wstatus).toBe(4 << 8);
    await tracer.exit(0);
    await init.ok("wait4", { pid: tracer.pid, options: 0 });
  });
});
