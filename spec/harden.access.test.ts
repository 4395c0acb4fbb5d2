/**
 * Access control through a real daemon: control connections are read-only (every guest call
 * of the schema is refused and the namespace is unchanged); a connection's identity is fixed
 * at its handshake and no call acts on another process's children, threads or descriptors;
 * kill obeys Linux's permission rule, compared case by case with real Linux (python's
 * os.setresuid + os.kill in real processes). The socket, runtime directory and prefix rules
 * are in core.run.test.ts.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";
import { ClientConnection } from "../src/client/connection.js";
import { Control } from "../src/client/control.js";
import { SyscallError } from "../src/client/errors.js";
import { table, type CallName } from "../src/protocol/index.js";
import type { FieldType } from "../src/protocol/schema.js";
import { withoutRoot } from "./helpers/root.js";

const { hostpid, daemon, guest } = hardenSetup("access");
let d: Daemon;
let init: ClientConnection;
beforeAll(async () => {
  d = await daemon();
  init = await guest(d.socket);
});
afterAll(() => {
  init.close();
});

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof SyscallError) return e.code;
    throw e;
  }
};

const zero: Record<FieldType, unknown> = { i32: 0, u32: 0, i64: 0n, u64: 0n, bool: false, str: "", bytes: Buffer.alloc(0), strs: [], i32s: [], any: null };

describe("access control", () => {
  it("a control connection is read-only: every guest and binding call of the schema is EPERM, and the namespace is unchanged", async () => {
    const child = (await init.call("fork", {})).result;
    const ctl = await Control.connect(d.socket);
    const before = await ctl.ps();
    let refused = 0;
    for (const c of table.byNr.values()) {
      if (c.role === "control" || c.role === "any") continue;
      const args = Object.fromEntries(c.argNames.map((n) => [n, zero[c.args[n]!]]));
      const e = await ctl.conn.call(c.name as CallName, args as never).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, c.name).toBeInstanceOf(SyscallError);
      expect((e as SyscallError).code, c.name).toBe("EPERM");
      expect((e as SyscallError).detail, c.name).toMatch(/control connection/);
      refused++;
    }
    expect(refused).toBeGreaterThan(30);
    expect(await ctl.ps()).toEqual(before);
    expect((await ctl.check()).problems).toEqual([]);
    ctl.close();
    await init.call("fork_abort", { pid: child });
  });

  it("identity is fixed at the handshake: no second hello, register or claim; no call acts on another process's children, threads or descriptors", async () => {
    const a = await guest(d.socket, (await init.call("fork", {})).out.token);
    const b = await guest(d.socket, (await init.call("fork", {})).out.token);
    expect(await code(a.call("hello", { version: "x", role: "guest", client: "again" }))).toBe("EPROTO");
    expect(await code(a.call("register", { hostpid: hostpid(), exe: "/x", argv: [], delivery: 0 }))).toBe("EPROTO");
    const spare = (await init.call("fork", {})).out.token;
    expect(await code(a.call("claim", { token: spare, hostpid: hostpid() }))).toBe("EPROTO");
    expect((await a.call("getpid", {})).result).toBe(a.pid);

    // a's child, thread and descriptor: b can neither abort, report, wait for, nor use them.
    const ac = (await a.call("fork", {})).result;
    const at = (await a.call("thread_create", {})).result;
    const afd = (await a.call("eventfd2", { initval: 5, flags: 0 })).result;
    expect(await code(b.call("fork_abort", { pid: ac }))).toBe("ESRCH");
    expect(await code(b.call("report_status", { pid: ac, wstatus: 0 }))).toBe("ESRCH");
    expect(await code(b.call("wait4", { pid: ac, options: 1 }))).toBe("ECHILD");
    expect(await code(b.call("thread_abort", { tid: at }))).toBe("ESRCH");
    expect(await code(b.call("eventfd_read", { fd: afd, size: 8 }))).toBe("EBADF");
    expect(await code(b.call("close", { fd: afd }))).toBe("EBADF");
    // …and they are all still a's.
    expect((await a.call("eventfd_read", { fd: afd, size: 8 })).out.value).toBe(5n);
    expect((await a.call("thread_abort", { tid: at })).result).toBe(0);
    expect((await a.call("fork_abort", { pid: ac })).result).toBe(0);
    const ctl = await Control.connect(d.socket);
    expect((await ctl.check()).problems).toEqual([]);
    ctl.close();
    a.close();
    b.close();
  });

  // (ruid, euid, suid) of the sender and of the target; kill_ok_by_cred (kernel/signal.c).
  const cases: Array<[number[], number[]]> = [
    [[1000, 1000, 1000], [0, 0, 0]],
    [[1000, 1000, 1000], [1000, 1000, 1000]],
    [[0, 0, 0], [1000, 1000, 1000]],
    [[1000, 2000, 2000], [3000, 3000, 2000]],
    [[1000, 2000, 2000], [3000, 3000, 3000]],
    [[1000, 2000, 2000], [1000, 3000, 3000]],
    [[4000, 5000, 6000], [7000, 8000, 4000]],
  ];

  it.skipIf(withoutRoot("kill's permission rule against real processes with other uids (setresuid)"))("kill's permission rule is Linux's: the same answers as real processes with the same uids", async () => {
    const py = `
import os, sys, signal
cases = ${JSON.stringify(cases)}
for s, t in cases:
    r, w = os.pipe()
    tp = os.fork()
    if tp == 0:
        os.setresuid(*t); os.write(w, b"x"); signal.pause(); os._exit(0)
    os.read(r, 1)
    sp = os.fork()
    if sp == 0:
        os.setresuid(*s)
        try:
            os.kill(tp, 0); os._exit(0)
        except PermissionError:
            os._exit(1)
    _, st = os.waitpid(sp, 0)
    print("ok" if os.waitstatus_to_exitcode(st) == 0 else "EPERM")
    os.kill(tp, 9); os.waitpid(tp, 0)
`;
    const linux = spawnSync("python3", ["-c", py], { encoding: "utf8" });
    expect(linux.status, linux.stderr).toBe(0);
    const want = linux.stdout.trim().split("\n");
    const got: string[] = [];
    for (const [s, t] of cases) {
      const target = await guest(d.socket, (await init.call("fork", {})).out.token);
      const sender = await guest(d.socket, (await init.call("fork", {})).out.token);
      await target.call("setresuid", { ruid: t[0]!, euid: t[1]!, suid: t[2]! });
      await sender.call("setresuid", { ruid: s[0]!, euid: s[1]!, suid: s[2]! });
      got.push(await code(sender.call("kill", { pid: target.pid, sig: 0 })));
      target.close();
      sender.close();
    }
    expect(want).toEqual(["EPERM", "ok", "ok", "ok", "EPERM", "ok", "ok"]);
    expect(got).toEqual(want);
  });
});
