/**
 * Limits, each set on the command line of a real daemon and met through the socket: tasks
 * (EAGAIN, also under a fork bomb that leaves the daemon responsive), descriptors per process
 * (EMFILE) and files in all (ENFILE), parked calls per connection (EAGAIN), connections,
 * the handshake timeout and the frame size. Each refusal names the limit.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hardenSetup } from "./helpers/harden.js";
import { BIN, NODE_BIN } from "../fuzz/daemon.js";
import { ClientConnection } from "../src/client/connection.js";
import { Control } from "../src/client/control.js";
import { SyscallError } from "../src/client/errors.js";
import { FrameReader, frame } from "../src/protocol/frame.js";
import { decode } from "../src/protocol/codec.js";
import { PROTOCOL_VERSION, callByName } from "../src/protocol/index.js";
import { EVENT, EV } from "../src/protocol/messages.js";
import { until } from "./helpers/bounded.js";

const { daemon, guest } = hardenSetup("limits");

const errnoOf = async (p: Promise<unknown>): Promise<SyscallError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof SyscallError) return e;
    throw e;
  }
  throw new Error("the call succeeded");
};

/** A raw connection that collects what the daemon sends until it closes. */
function raw(socket: string): Promise<{ s: net.Socket; msgs: unknown[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    const msgs: unknown[] = [];
    const r = new FrameReader(1 << 20);
    s.on("data", (b) => r.push(b, (body) => msgs.push(decode(body))));
    s.on("error", () => {});
    const closed = new Promise<void>((res) => s.once("close", () => res()));
    s.once("connect", () => resolve({ s, msgs, closed }));
    s.once("error", reject);
  });
}

describe("limits", () => {
  it("--max-tasks: a fork bomb from inside gets EAGAIN naming the limit; the daemon stays responsive; once reaped, fork works again", async () => {
    const d = await daemon(["--max-tasks", "24"]);
    const init = await guest(d.socket);
    const ctl = await Control.connect(d.socket);
    // The bomb: every process forks twice, every child claims and does the same, until refused.
    const bomb: ClientConnection[] = [];
    let refused: SyscallError | undefined;
    const grow = async (p: ClientConnection): Promise<void> => {
      for (let i = 0; i < 2 && !refused; i++) {
        try {
          const r = await p.call("fork", {});
          const child = await guest(d.socket, r.out.token);
          bomb.push(child);
          await grow(child);
        } catch (e) {
          if (e instanceof SyscallError && e.errno === 11) refused = e;
          else throw e;
        }
      }
    };
    await Promise.all([grow(init), grow(init), (async () => expect((await ctl.ps()).length).toBeGreaterThan(0))()]);
    expect(refused?.detail).toMatch(/24 tasks.*--max-tasks/);
    // Responsive while full: a control call and a guest call are answered, and the checker is content.
    expect(await ctl.ps()).toHaveLength(24);
    expect((await init.call("getppid", {})).result).toBe(0);
    expect((await ctl.check()).problems).toEqual([]);
    // The bomb dies (its connections close); init reaps every one; then fork works again.
    for (const c of bomb) c.close();
    let reaped = 0;
    for (;;) {
      try {
        await init.call("wait4", { pid: -1, options: 0 });
        reaped++;
      } catch (e) {
        expect((e as SyscallError).code).toBe("ECHILD");
        break;
      }
    }
    expect(reaped).toBe(23);
    expect((await init.call("fork", {})).result).toBeGreaterThan(1);
    const report = await ctl.check();
    expect(report.problems).toEqual([]);
    ctl.close();
    init.close();
  });

  it("--max-fds and --max-files: EMFILE for one process's descriptors, ENFILE for the namespace's files, named", async () => {
    const d = await daemon(["--max-fds", "2", "--max-files", "3"]);
    const a = await guest(d.socket);
    const b = await guest(d.socket);
    const efd = (g: ClientConnection) => g.call("eventfd2", { initval: 0, flags: 0 });
    await efd(a);
    await efd(a);
    const e1 = await errnoOf(efd(a));
    expect(e1.code).toBe("EMFILE");
    expect(e1.detail).toMatch(/RLIMIT_NOFILE 2/);
    await efd(b);
    const e2 = await errnoOf(efd(b));
    expect(e2.code).toBe("ENFILE");
    expect(e2.detail).toMatch(/limit \(file-max\) is 3/);
    // A close frees a slot.
    await a.call("close", { fd: 0 });
    expect((await efd(b)).result).toBe(1);
    a.close();
    b.close();
  });

  it("--max-parked: one parked call too many is EAGAIN on that connection only, a call that fails at once still gets its own errno; the parked ones are answered when interrupted", async () => {
    const d = await daemon(["--max-parked", "2"]);
    const init = await guest(d.socket);
    await init.call("fork", {});
    const acs = [new AbortController(), new AbortController()];
    const parked = acs.map((ac) => init.call("wait4", { pid: -1, options: 0 }, { signal: ac.signal }));
    const third = await errnoOf(init.call("wait4", { pid: -1, options: 0 }));
    expect(third.code).toBe("EAGAIN");
    expect(third.detail).toMatch(/more than 2 parked calls/);
    // A call that fails at once never parks: its own errno, not the parked calls' limit.
    expect((await errnoOf(init.call("wait4", { pid: 99, options: 0 }))).code).toBe("ECHILD");
    for (const ac of acs) ac.abort();
    for (const p of parked) expect((await errnoOf(p)).code).toBe("EINTR");
    init.close();
  });

  it("--max-parked: a blocking eventfd_read refused past the limit holds nothing: the file goes with its last descriptor", async () => {
    const d = await daemon(["--max-parked", "1"]);
    const g = await guest(d.socket);
    const ctl = await Control.connect(d.socket);
    const fd = Number((await g.call("eventfd2", { initval: 0, flags: 0 })).result);
    const ac = new AbortController();
    const parked = g.call("eventfd_read", { fd, size: 8 }, { signal: ac.signal });
    expect((await errnoOf(g.call("eventfd_read", { fd, size: 8 }))).code).toBe("EAGAIN");
    ac.abort();
    expect((await errnoOf(parked)).code).toBe("EINTR");
    await g.call("close", { fd });
    expect((await ctl.check()).problems).toEqual([]);
    ctl.close();
    g.close();
  });

  it("--max-connections: past it a guest is told why and closed, while 8 more connections are kept for control clients (ps, check); past those, every connection is refused with the reason; a slot freed is a slot usable", async () => {
    const d = await daemon(["--max-connections", "2"]);
    const a = await guest(d.socket);
    const ctl = await Control.connect(d.socket);
    // The table is full: a guest is refused at hello, with the reason; a control client is served.
    const g = await ClientConnection.open(d.socket);
    const refused = await errnoOf(g.hello("guest", "one too many"));
    expect(refused.code).toBe("EAGAIN");
    expect(refused.detail).toMatch(/connection table is full: only control connections/);
    const controls: Control[] = [];
    for (let i = 0; i < 8; i++) controls.push(await Control.connect(d.socket));
    expect(await controls[7]!.ps()).toHaveLength(1);
    const last = await raw(d.socket);
    await last.closed;
    expect(last.msgs).toEqual([[EVENT, EV.FATAL, expect.stringMatching(/2 connections are open/)]]);
    for (const c of controls) c.close();
    ctl.close();
    // The daemon has seen the control connections go once a new one is answered.
    let again: Control | undefined;
    for (let i = 0; !again; i++) {
      try {
        again = await Control.connect(d.socket);
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(await again.ps()).toHaveLength(1);
    again.close();
    a.close();
  });

  it("--frame-timeout-ms: after the hello, a frame begun and never finished closes its connection with the reason; a slow but steady client is served", async () => {
    const d = await daemon(["--frame-timeout-ms", "1000"]);
    const half = await raw(d.socket);
    half.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "control", "half"]));
    const ps = frame([0, 2, callByName("ps").nr]);
    half.s.write(ps.subarray(0, ps.length - 1));
    const t = Date.now();
    await half.closed;
    expect(Date.now() - t).toBeLessThan(5000);
    expect(half.msgs).toEqual([[1, 1, 0, expect.any(String), expect.any(Number), expect.any(String)], [EVENT, EV.FATAL, expect.stringMatching(/a frame was begun and not finished within 1000 ms/)]]);
    // Each frame within the deadline, however long the connection lives (a tenth of the deadline
    // inside a frame: a loaded machine delays a timer by a few hundred ms; the connection outlives
    // the deadline twice over).
    const steady = await raw(d.socket);
    steady.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "control", "steady"]));
    for (let i = 2; i < 5; i++) {
      const f = frame([0, i, callByName("ps").nr]);
      steady.s.write(f.subarray(0, 3));
      await new Promise((r) => setTimeout(r, 100));
      steady.s.write(f.subarray(3));
      await new Promise((r) => setTimeout(r, 700));
    }
    await until("the steady client's four replies (or a close)", () => steady.msgs.length >= 4);
    expect(steady.msgs.map((m) => (m as unknown[])[0])).toEqual([1, 1, 1, 1]);
    steady.s.destroy();
  });

  it("RLIMIT_NOFILE: the connection limit is sized to the descriptors the daemon may open and said at start; connections past it are told why (no bare ECONNRESET) and ps still works", async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-nofile-"));
    const p = spawn("sh", ["-c", `ulimit -n 256 && exec "${process.execPath}" ${NODE_BIN.map((a) => `"${a}"`).join(" ")} serve --prefix "${prefix}"`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (b: Buffer) => (err += b));
    try {
      for (let i = 0; i < 200 && !err.includes("serving at"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain("blinkd: at most 184 connections, not 4096: this process may open 256 descriptors (RLIMIT_NOFILE");
      expect(err).toContain("serving at");
      const socket = path.join(prefix, "blinkd.sock");
      const conns = await Promise.all(Array.from({ length: 200 }, () => raw(socket)));
      for (const c of conns) c.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "guest", "many"]));
      const closedWithin = (c: (typeof conns)[number]): Promise<boolean> => Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      const closed = await Promise.all(conns.map(closedWithin));
      const refused = conns.filter((_, i) => closed[i]);
      expect(refused.length).toBe(200 - 184);
      for (const c of refused) expect(c.msgs.at(-1)).toEqual(expect.arrayContaining([expect.stringMatching(/connection table is full|connections are open/)]));
      const ps = spawnSync(process.execPath, [BIN, "ps", "--prefix", prefix], { encoding: "utf8", timeout: 20_000 });
      expect(ps.status, ps.stderr).toBe(0);
      for (const c of conns) c.s.destroy();
    } finally {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("exit", r));
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  }, 60_000);

  it("--handshake-timeout-ms: a connection that never says hello is told so and closed; one that said hello stays", async () => {
    const d = await daemon(["--handshake-timeout-ms", "300"]);
    const polite = await ClientConnection.open(d.socket);
    await polite.hello("control", "polite");
    const silent = await raw(d.socket);
    await silent.closed;
    expect(silent.msgs).toEqual([[EVENT, EV.FATAL, expect.stringMatching(/no hello within 300 ms/)]]);
    expect((await polite.call("ps", {})).result).toBe(0);
    polite.close();
  });

  it("--handshake-timeout-ms counts a hello that waited in the socket while the daemon was busy: a stalled daemon does not close a client that said hello in time", async () => {
    const d = await daemon(["--handshake-timeout-ms", "500"]);
    const c = await raw(d.socket);
    let closed = false;
    void c.closed.then(() => (closed = true));
    // The daemon has accepted the connection (and armed its timer) once a control call made after it is answered.
    const ctl = await ClientConnection.open(d.socket);
    await ctl.hello("control", "probe");
    // The daemon stops (as a busy event loop would) and the hello arrives meanwhile, well within the timeout.
    d.proc.kill("SIGSTOP");
    c.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "control", "late reader"]));
    await new Promise((r) => setTimeout(r, 1200));
    d.proc.kill("SIGCONT");
    await until("the hello's reply (or the close)", () => c.msgs.length >= 1 || closed);
    expect(c.msgs[0]).toEqual([1, 1, 0, expect.any(String), expect.any(Number), expect.any(String)]);
    // Past the timeout again: still open, still served.
    await new Promise((r) => setTimeout(r, 700));
    c.s.write(frame([0, 2, callByName("ps").nr]));
    await until("ps's reply (or the close)", () => c.msgs.length >= 2 || closed);
    expect(c.msgs[1]).toEqual([1, 2, 0, expect.any(Array)]);
    c.s.destroy();
    ctl.close();
  });

  it("--max-frame: a frame over the limit closes that connection with the reason; one under it is served", async () => {
    const d = await daemon(["--max-frame", "1024"]);
    const ok = await raw(d.socket);
    ok.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "control", "x".repeat(900)]));
    const big = await raw(d.socket);
    big.s.write(frame([0, 1, callByName("hello").nr, PROTOCOL_VERSION, "control", "x".repeat(1100)]));
    await big.closed;
    expect(big.msgs).toEqual([[EVENT, EV.FATAL, expect.stringMatching(/over the limit of 1024/)]]);
    ok.s.write(frame([0, 2, callByName("ps").nr]));
    await until("two replies on the connection under the limit", () => ok.msgs.length >= 2);
    expect(ok.msgs).toEqual([[1, 1, 0, expect.any(String), expect.any(Number), expect.any(String)], [1, 2, 0, []]]);
    ok.s.destroy();
  });
});
