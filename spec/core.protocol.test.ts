/**
 * The wire protocol against a real `blinkd serve` process: the handshake, roles, bad input
 * (each affecting only the client that sent it), and the trace. Raw clients send bytes as
 * spec/protocol.md describes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Served } from "./helpers/daemon.js";
import { Raw, StandIn } from "./helpers/raw.js";
import { PROTOCOL_VERSION, callByName } from "../src/protocol/index.js";
import { frame } from "../src/protocol/frame.js";
import { ClientConnection } from "../src/client/connection.js";
import { DaemonGoneError, SyscallError } from "../src/client/errors.js";
import { EVENT, EV, requestMessage } from "../src/protocol/messages.js";
import { spawn } from "node:child_process";
import * as fs from "node:fs";

const STRACE = ["/usr/bin/strace", "/bin/strace"].find((p) => fs.existsSync(p));

const EPERM = -1, ESRCH = -3, EINVAL = -22, ENOSYS = -38, EPROTO = -71, ECHILD = -10;

let d: Served;
let host: StandIn;
/** PID 1 of the shared namespace: lives for the whole file, so the namespace does. */
let init: Raw;
const opened: Raw[] = [];
const open = async () => {
  const r = await Raw.open(d.socket);
  opened.push(r);
  return r;
};

beforeAll(async () => {
  d = await serve(["--trace"]);
  host = StandIn.start();
  init = await open();
  expect(await init.register(host.pid)).toBe(1);
});
afterAll(async () => {
  for (const r of opened) r.destroy();
  await d.stop();
  host.kill();
});

/** The shared init still answers: whatever another client did did not affect it. */
async function initStillWorks(): Promise<void> {
  expect((await init.call("getpid")).result).toBe(1);
}

describe("handshake", () => {
  it("hello with the schema's version and role guest: result 0, the daemon's name, pid_max and this connection's own nonce", async () => {
    const c = await open();
    const r = await c.hello("guest");
    expect(r.result).toBe(0);
    expect(r.out).toEqual(["blinkd 0.1.0", 32768, expect.stringMatching(/^[0-9a-f]{32}$/)]);
    const other = await open();
    expect((await other.hello("guest")).out[2]).not.toBe(r.out[2]);
  });

  it("a version mismatch is EPROTO naming both versions, the daemon logs it, and closes that connection only", async () => {
    const c = await open();
    const r = await c.hello("guest", "0123456789abcdef");
    expect(r.result).toBe(EPROTO);
    expect(r.out[0]).toMatch(/protocol version mismatch: daemon speaks [0-9a-f]{16}, client speaks 0123456789abcdef/);
    expect(r.out[0]).toContain(PROTOCOL_VERSION);
    await c.closed;
    await d.waitErr(/closing after hello: EPROTO: protocol version mismatch: daemon speaks [0-9a-f]{16}, client speaks 0123456789abcdef/);
    await initStillWorks();
  });

  it("the TypeScript client shows the mismatch as a clear error, and the connection as gone afterwards", async () => {
    const c = await ClientConnection.open(d.socket);
    const e = await c.call("hello", { version: "0123456789abcdef", role: "guest", client: "old build" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SyscallError);
    expect((e as SyscallError).code).toBe("EPROTO");
    expect((e as Error).message).toMatch(/^hello: EPROTO \(protocol version mismatch: daemon speaks [0-9a-f]{16}, client speaks 0123456789abcdef; rebuild the client from the same schema\)$/);
    const later = await c.call("getpid", {}).catch((x: unknown) => x);
    expect(later).toBeInstanceOf(DaemonGoneError);
  });

  it("a call before hello is EPROTO and the connection stays open; hello then works", async () => {
    const c = await open();
    const r = await c.call("getpid");
    expect(r.result).toBe(EPROTO);
    expect(r.out[0]).toMatch(/getpid before hello/);
    expect((await c.hello()).result).toBe(0);
  });

  it("a second hello is EPROTO", async () => {
    const c = await open();
    await c.hello();
    const r = await c.hello();
    expect(r.result).toBe(EPROTO);
    expect(r.out[0]).toMatch(/already/);
  });

  it("an unknown role is EINVAL naming hello.role, then the connection closes", async () => {
    const c = await open();
    const r = await c.hello("root");
    expect(r.result).toBe(EINVAL);
    expect(r.out[0]).toMatch(/hello\.role/);
    await c.closed;
  });
});

describe("roles", () => {
  it("a control connection cannot act as a guest: register, claim and guest calls are EPERM", async () => {
    const c = await open();
    expect((await c.hello("control")).result).toBe(0);
    for (const [name, args] of [
      ["register", { hostpid: host.pid, exe: "/x", argv: [], delivery: 0 }],
      ["claim", { token: "00", hostpid: host.pid }],
      ["getpid", {}],
      ["fork", {}],
      ["wait4", { pid: -1, options: 0 }],
    ] as const) {
      const r = await c.call(name, args);
      expect(r.result, name).toBe(EPERM);
      expect(r.out[0], name).toMatch(/control connection cannot act as a guest/);
    }
    const ps = await c.call("ps");
    expect(Number(ps.result)).toBeGreaterThanOrEqual(1);
  });

  it("a guest cannot make control calls, nor register twice; an unbound connection makes no guest call", async () => {
    const g = await open();
    const st = StandIn.start();
    try {
      const pid = await g.register(st.pid);
      expect(pid).toBeGreaterThan(1);
      const ps = await g.call("ps");
      expect(ps.result).toBe(EPERM);
      expect(ps.out[0]).toMatch(/ps needs a control connection/);
      const again = await g.call("register", { hostpid: st.pid, exe: "/x", argv: [], delivery: 0 });
      expect(again.result).toBe(EPROTO);
      expect(again.out[0]).toMatch(/already bound to thread/);
      const u = await open();
      await u.hello();
      const gp = await u.call("getpid");
      expect(gp.result).toBe(EPROTO);
      expect(gp.out[0]).toMatch(/before register or claim/);
      expect((await u.call("ps")).result).toBe(EPERM);
      g.send([0, g.seq(), 18, 0]); // exit_group(0): a clean end for this process
    } finally {
      st.kill();
    }
  });
});

describe("bad input affects only the client that sent it", () => {
  it("a wrong-typed field is EINVAL naming the field; the connection keeps working", async () => {
    const c = await open();
    const st = StandIn.start();
    try {
      await c.register(st.pid);
      const s1 = c.seq();
      c.send([0, s1, 50, "x", 0]);
      expect(await c.reply(s1)).toMatchObject({ result: EINVAL, out: ["wait4.pid: expected i32, got string of 1"] });
      // An integral float is still a float: integers travel as msgpack integers.
      const s2 = c.seq();
      // [0, s2, 50, 1.0, 0] with 1.0 as a float64 (cb 3ff0000000000000)
      c.write(Buffer.from(`0000000e9500${s2.toString(16).padStart(2, "0")}32cb3ff000000000000000`, "hex"));
      const r2 = await c.reply(s2);
      expect(r2.result).toBe(EINVAL);
      expect(r2.out[0]).toMatch(/^wait4\.pid: expected i32, got float 1/);
      const s3 = c.seq();
      c.send([0, s3, 50, -1, 0x10000000]);
      expect(await c.reply(s3)).toMatchObject({ result: EINVAL, out: [expect.stringMatching(/wait4\.options/)] });
      const s4 = c.seq();
      c.send([0, s4, 50, -1]);
      expect(await c.reply(s4)).toMatchObject({ result: EINVAL, out: ["wait4: expected 2 arguments (pid, options), got 1"] });
      const s5 = c.seq();
      c.send([0, s5, 999]);
      expect(await c.reply(s5)).toMatchObject({ result: ENOSYS, out: ["no call number 999"] });
      const s6 = c.seq();
      c.send([0, s6, "getpid"]);
      expect(await c.reply(s6)).toMatchObject({ result: EINVAL, out: [expect.stringMatching(/request nr: expected integer/)] });
      // Still the same guest, still working.
      expect((await c.call("wait4", { pid: -1, options: 1 })).result).toBe(ECHILD);
      expect(c.isClosed).toBe(false);
      c.request("exit_group", { status: 0 });
    } finally {
      st.kill();
    }
  });

  it("a malformed frame gets a FATAL event and closes that connection; others keep working", async () => {
    for (const bytes of ["00000001c1", "0000000392010100", "000000029201", "00000001c0", "000000039300ff01"]) {
      const bad = await open();
      await bad.hello();
      bad.write(Buffer.from(bytes, "hex"));
      const ev = await bad.nextEvent();
      expect(ev?.[0], bytes).toBe(3);
      expect(ev?.[1], bytes).toBe(0);
      expect(typeof ev?.[2]).toBe("string");
      await bad.closed;
      await initStillWorks();
    }
    await d.waitErr(/protocol error, closing: malformed msgpack/);
    await d.waitErr(/protocol error, closing: message must be an array/);
  });

  it("an oversized frame is refused from its length alone; others keep working", async () => {
    const bad = await open();
    await bad.hello();
    bad.write(Buffer.from("00100001", "hex")); // 1 MiB + 1: the body never needs to come
    const ev = await bad.nextEvent();
    expect(ev).toEqual([EVENT, EV.FATAL, "frame of 1048577 bytes is over the limit of 1048576"]);
    await bad.closed;
    await initStillWorks();
  });

  it("a guest whose connection breaks the protocol dies of SIGKILL, as its parent's wait4 shows", async () => {
    const { pid, token } = await init.fork();
    const child = await open();
    const st = StandIn.start();
    try {
      expect(await child.claim(token, st.pid)).toBe(pid);
      const w = init.call("wait4", { pid, options: 0 });
      child.write(Buffer.from("00000001c1", "hex"));
      const r = await w;
      expect(r.result).toBe(pid);
      expect(r.out).toEqual([9]);
    } finally {
      st.kill();
    }
  });

  it("reusing the seq of a parked call is fatal for that connection", async () => {
    const { pid, token } = await init.fork();
    const child = await open();
    const st = StandIn.start();
    try {
      await child.claim(token, st.pid);
      const { token: t2 } = await child.fork();
      const gc = await open();
      await gc.claim(t2, st.pid);
      child.send([0, 77, 50, -1, 0]); // wait4 parks: the grandchild runs
      child.send([0, 77, 50, -1, 0]);
      const ev = await child.nextEvent();
      expect(ev).toEqual([EVENT, EV.FATAL, "seq 77 reused while that call is parked"]);
      await child.closed;
      // Exactly one reply for seq 77 was ever sent: none, since the connection died parked.
      expect(child.replies.get(77)).toBeUndefined();
      const r = await init.call("wait4", { pid, options: 0 });
      expect(r.out).toEqual([9]);
    } finally {
      st.kill();
    }
  });

  it("a client still writing when its connection is closed for bad input reads the FATAL reason: the daemon's close lingers, so no EPIPE or reset takes the reason away", async () => {
    for (let round = 0; round < 20; round++) {
      const bad = await open();
      await bad.hello();
      let sockError: string | undefined;
      bad.sock.on("error", (e: NodeJS.ErrnoException) => (sockError ??= e.code));
      let ended = false;
      bad.sock.once("end", () => (ended = true));
      // The bad frame, then a stream of valid requests that goes on after the daemon's close.
      bad.write(Buffer.from("00000001c1", "hex"));
      const chunk = Buffer.concat(Array.from({ length: 2000 }, (_, i) => frame([0, 100 + i, 10])));
      for (let sent = 0; sent < 64 << 20 && !ended && !bad.isClosed; sent += chunk.length) {
        bad.write(chunk);
        await new Promise((r) => setImmediate(r));
      }
      const ev = await bad.nextEvent();
      expect(ev?.slice(0, 2), `round ${round}`).toEqual([EVENT, EV.FATAL]);
      expect(String(ev?.[2]), `round ${round}`).toContain("malformed msgpack");
      await bad.closed;
      expect(sockError, `round ${round}: the client's socket error`).toBeUndefined();
    }
    await initStillWorks();
  });

  it("an interrupt for a seq that is not parked is ignored: no reply of its own", async () => {
    const c = await open();
    await c.hello();
    c.interrupt(4242);
    const r = await c.call("hello", { version: PROTOCOL_VERSION, role: "guest", client: "x" });
    expect(r.result).toBe(EPROTO);
    expect(c.replies.has(4242)).toBe(false);
  });
});

describe("posts ([4, seq, nr, ...args]: requests that get no reply, §4.5)", () => {
  /** A new guest of the shared namespace: init's child, claimed on a connection of its own. */
  async function child(): Promise<{ c: Raw; pid: number }> {
    const { pid, token } = await init.fork();
    const c = await open();
    await c.claim(token, host.pid);
    return { c, pid };
  }

  it("the daemon writes no frame for a post, takes it in order with the connection's requests, and logs a post's failure", async () => {
    const { c, pid } = await child();
    const before = c.replies.size;
    const p1 = c.post("rt_sigprocmask", { how: 2, set: 1n << 9n });
    const p2 = c.post("fork_abort", { pid: 99999 });
    // The next request's reply is the next frame there is, and it sees the posted mask.
    const r = await c.call("rt_sigprocmask", { how: 0, set: 0n });
    expect(Number(r.out[0])).toBe(0x200);
    expect((await c.call("getpid")).result).toBe(pid);
    expect(c.replies.has(p1) || c.replies.has(p2)).toBe(false);
    expect(c.replies.size - before).toBe(2);
    expect(c.events).toEqual([]);
    await d.waitErr(new RegExp(`\\[${pid}/${pid}\\] posted #${p2} fork_abort failed \\(no reply is sent for a post\\): ESRCH`));
    // the trace shows what the post did
    await d.waitErr(new RegExp(`\\[${pid}/${pid}\\] #${p1} rt_sigprocmask = 0 \\{old: 0\\} \\(posted: no reply\\)`));
  });

  it("bad input in a post gets no reply either: EINVAL or ENOSYS in the daemon's log, and a call that may block cannot be posted", async () => {
    const { c, pid } = await child();
    const bad = c.post("kill", { pid: "x", sig: 0 });
    const blocks = c.post("wait4", { pid: -1, options: 0 });
    const nosys = c.seq();
    c.send([4, nosys, 9999]);
    expect((await c.call("getpid")).result).toBe(pid);
    expect([bad, blocks, nosys].some((s) => c.replies.has(s))).toBe(false);
    await d.waitErr(new RegExp(`posted #${bad} failed \\(no reply is sent for a post\\): EINVAL: kill\\.pid: expected i32`));
    await d.waitErr(new RegExp(`posted #${blocks} failed \\(no reply is sent for a post\\): EINVAL: wait4 may block: it cannot be posted`));
    await d.waitErr(new RegExp(`posted #${nosys} failed \\(no reply is sent for a post\\): ENOSYS`));
    await initStillWorks();
  });

  it("a posted exit_group from a process that closes at once: its status is the parent's, and nothing is written to it", async () => {
    const { c, pid } = await child();
    c.post("exit_group", { status: 7 });
    c.close();
    await c.closed;
    expect(c.replies.size).toBe(2); // hello and claim
    const w = await init.call("wait4", { pid, options: 0 });
    expect(w.result).toBe(pid);
    expect(w.out[0]).toBe(0x700);
  });
});

describe("a client's end of the connection", () => {
  it("a client that sends its requests and half-closes gets every reply, then EOF", async () => {
    const c = await open();
    // hello, then two calls a bound guest may make (EPROTO here: the connection is not bound), in one write with the FIN.
    const seqs = [c.seq(), c.seq(), c.seq()];
    const msgs = [requestMessage(seqs[0]!, callByName("hello"), { version: PROTOCOL_VERSION, role: "guest", client: "spec raw" }), requestMessage(seqs[1]!, callByName("getpid"), {}), requestMessage(seqs[2]!, callByName("getppid"), {})];
    c.sock.end(Buffer.concat(msgs.map((m) => frame(m))));
    const r = await Promise.all(seqs.map((s) => c.reply(s)));
    expect(r.map((x) => x.result)).toEqual([0, EPROTO, EPROTO]);
    await c.closed;
    await initStillWorks();
  });

  // Linux's side is the daemon's socket: after the client's EOF, Node.js ended the daemon's
  // side with shutdown(2) (a FIN to a peer that is gone) before it closed it, once per process.
  it.skipIf(!STRACE)("a client's EOF is answered by close(2) alone, no shutdown(2) (issue 18: a write that wakes nobody)", async (t) => {
    const st = spawn(STRACE!, ["-p", String(d.proc.pid), "-e", "trace=shutdown,close"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    const lines = (re: RegExp): number => err.split("\n").filter((l) => re.test(l)).length;
    const until = (what: string, ok: () => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${what} within 10 s; strace printed:\n${err.slice(-2000)}`)), 10_000);
        const check = (): void => {
          if (!ok()) return;
          clearTimeout(t);
          resolve();
        };
        st.stderr!.on("data", (b: Buffer) => {
          err += b.toString();
          check();
        });
        st.once("exit", (code) => {
          clearTimeout(t);
          reject(new Error(`strace exited with ${code} before ${what}: ${err}`));
        });
        check();
      });
    try {
      // Where ptrace is restricted (Yama's ptrace_scope, no CAP_SYS_PTRACE) strace cannot attach to a sibling: nothing to count.
      await until("strace did not attach", () => /attached/.test(err)).catch((e: unknown) => (/Operation not permitted/.test(err) ? t.skip(`strace cannot attach to the daemon here: ${err.trim()}`) : Promise.reject(e)));
      const K = 4;
      for (let i = 0; i < K; i++) {
        const c = await open();
        expect((await c.hello("guest")).result).toBe(0);
        c.destroy();
        await c.closed;
      }
      await until(`the daemon did not close ${K} sockets`, () => lines(/^close\(/) >= K);
      expect(lines(/^shutdown\(/)).toBe(0);
    } finally {
      st.kill("SIGINT");
    }
    await initStillWorks();
  });
});

describe("trace", () => {
  it("BLINKD_TRACE / --trace prints each call, reply and interrupt as a readable line, tokens hidden", async () => {
    const { pid, token, proof } = await init.fork();
    await d.waitErr(new RegExp(`\\[1/1\\] #\\d+ fork = ${pid} \\{token: "…${token.slice(-4)}", proof: "…${proof.slice(-4)}"\\}`));
    await d.waitErr(/\[conn \d+\] #1 hello\(version="[0-9a-f]{16}", role="guest", client="spec raw"\)/);
    await d.waitErr(/\[conn \d+\] #1 hello = 0 \{daemon: "blinkd 0\.1\.0", pidMax: 32768, nonce: "[0-9a-f]{32}"\}/);
    await d.waitErr(/#\d+ wait4\(pid=-1, options=1\)\n.*#\d+ wait4 = -1 ECHILD/);
    await d.waitErr(/#1 getpid = -1 EPROTO \(getpid before hello: say hello first\)/);
    await d.waitErr(/#4242 interrupt \(not parked/);
    expect(d.stderr()).not.toContain(token);
    expect(d.stderr()).not.toContain(proof);
    expect((await init.call("fork_abort", { pid })).result).toBe(0);
    expect((await init.call("fork_abort", { pid })).result).toBe(ESRCH);
  });
});
