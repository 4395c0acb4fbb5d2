/**
 * Daemon faults: SIGTERM under load answers or cleanly closes every call in flight, and the
 * clients say the daemon is gone, and why; a daemon that crashed (SIGKILL) leaves a stale
 * socket that a restarted daemon replaces; either way a new daemon serves at the same path.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { hardenSetup } from "./helpers/harden.js";
import { ClientConnection } from "../src/client/connection.js";
import { DaemonGoneError, SyscallError } from "../src/client/errors.js";
import { Control } from "../src/client/control.js";

const { hostpid, daemon, guest } = hardenSetup("faults");

/** Loads a daemon: guests with parked waits and eventfd reads, and a stream of quick calls in flight. */
async function load(socket: string): Promise<{ calls: Promise<unknown>[]; conns: ClientConnection[] }> {
  const init = await guest(socket);
  const conns = [init];
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 6; i++) {
    const child = await guest(socket, (await init.call("fork", {})).out.token);
    conns.push(child);
    // Parked: a wait for an unclaimed child, and a read of an empty eventfd.
    await child.call("fork", {});
    calls.push(child.call("wait4", { pid: -1, options: 0 }));
    const fd = (await child.call("eventfd2", { initval: 0, flags: 0 })).result;
    calls.push(child.call("eventfd_read", { fd, size: 8 }));
  }
  for (let i = 0; i < 200; i++) calls.push(conns[i % conns.length]!.call("gettid", {}));
  return { calls, conns };
}

describe("daemon faults", () => {
  it("SIGTERM under load: every call in flight gets its reply or a clean close with a clear 'daemon gone' error; the daemon exits 0 and removes its socket; a new one serves at the same path", async () => {
    const d = await daemon();
    const { calls } = await load(d.socket);
    const stopped = d.stop("SIGTERM");
    const outcomes = await Promise.allSettled(calls);
    let replied = 0;
    let gone = 0;
    for (const o of outcomes) {
      if (o.status === "fulfilled" || o.reason instanceof SyscallError) replied++;
      else {
        expect(o.reason).toBeInstanceOf(DaemonGoneError);
        expect((o.reason as Error).message).toMatch(/the daemon closed the connection: the daemon is shutting down/);
        gone++;
      }
    }
    expect(replied + gone).toBe(calls.length);
    // The parked ones cannot have completed: they were closed.
    expect(gone).toBeGreaterThanOrEqual(12);
    expect(await stopped).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(d.socket)).toBe(false);
    // A call now: a clear error, not a hang.
    await expect(ClientConnection.open(d.socket)).rejects.toThrow(/no blinkd daemon is running at .*blinkd\.sock/);
    // Restarted at the same prefix: it serves, from PID 1 again.
    const d2 = await daemon([], d.prefix);
    expect(d2.socket).toBe(d.socket);
    const g = await ClientConnection.open(d2.socket);
    await g.hello("guest", "after restart");
    expect((await g.call("register", { hostpid: hostpid(), exe: "/g", argv: ["g"], delivery: 0 })).result).toBe(1);
    g.close();
  });

  it("a crashed daemon (SIGKILL): clients get 'daemon gone' at once; the stale socket is replaced by a restarted daemon, which serves", async () => {
    const d = await daemon();
    const { calls, conns } = await load(d.socket);
    const settled = Promise.allSettled(calls);
    expect(await d.stop("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    const outcomes = await settled;
    for (const o of outcomes) if (o.status === "rejected" && !(o.reason instanceof SyscallError)) expect(o.reason).toBeInstanceOf(DaemonGoneError);
    expect(outcomes.filter((o) => o.status === "rejected" && o.reason instanceof DaemonGoneError).length).toBeGreaterThanOrEqual(12);
    await expect(conns[0]!.call("getpid", {})).rejects.toBeInstanceOf(DaemonGoneError);
    expect(fs.lstatSync(d.socket).isSocket()).toBe(true);
    const d2 = await daemon([], d.prefix);
    const ctl = await Control.connect(d2.socket);
    expect(await ctl.ps()).toEqual([]);
    ctl.close();
  });
});
