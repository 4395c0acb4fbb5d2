/**
 * vfork's posted reservation (spec/protocol.md §7.4.1) through the socket with raw clients: the
 * parent posts `vfork` under its own token and never waits; the child's `claim_vfork` pairs
 * with it whichever of the two the daemon reads first, and everything else is refused at once
 * or at the bound (reserveTimeoutMs), affecting that client only.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { serve, type Served } from "./helpers/daemon.js";
import { Raw, StandIn } from "./helpers/raw.js";

const ENOENT = -2;
const ESRCH = -3;
const EAGAIN = -11;
const EINVAL = -22;
const ETIMEDOUT = -110;

/** p, or a failure that says what did not come within ms. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

const secret = (): string => randomBytes(16).toString("hex");

let daemon: Served | undefined;
const hosts: StandIn[] = [];
const conns: Raw[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.destroy();
  for (const h of hosts.splice(0)) h.proc.kill("SIGKILL");
  await daemon?.stop();
  daemon = undefined;
});

async function start(args: string[] = []): Promise<{ parent: Raw; ppid: number }> {
  daemon = await serve(args);
  const parent = await Raw.open(daemon.socket);
  conns.push(parent);
  const host = StandIn.start();
  hosts.push(host);
  return { parent, ppid: await parent.register(host) };
}

/** A child's connection, said hello, not yet claimed. */
async function child(): Promise<Raw> {
  const c = await Raw.open(daemon!.socket);
  conns.push(c);
  await c.helloOk();
  return c;
}

/** claim_vfork's request (its reply not awaited): an unproven host pid (fd -1) is enough here. */
const claimVfork = (c: Raw, token: string, ppid: number): number => c.request("claim_vfork", { token, ppid, hostpid: 99999999, fd: -1 });

describe("vfork: the parent posts, the child claims", () => {
  it("the claim that arrives before the post waits for it and pairs: the child is the parent's, pid 2, getppid 1", async () => {
    const { parent, ppid } = await start();
    const c = await child();
    const token = secret();
    const seq = claimVfork(c, token, ppid);
    // The claim is in the daemon first: its reply has not come while the post has not.
    await new Promise((r) => setTimeout(r, 100));
    expect(c.replies.get(seq)).toBeUndefined();
    parent.post("vfork", { token, proof: secret() });
    const r = await bounded(c.reply(seq), 5000, "the claim's reply after the parent's post");
    expect(r.result).toBe(2);
    expect(r.out).toEqual([2]);
    expect((await c.call("getppid")).result).toBe(ppid);
    expect((await c.call("getpid")).result).toBe(2);
    // The parent's wait4 sees it (not yet exited: WNOHANG gives 0).
    expect((await parent.call("wait4", { pid: -1, options: 1 })).result).toBe(0);
    // The token is spent: a second claim is refused at once.
    const again = await child();
    expect((await again.reply(claimVfork(again, token, ppid))).result).toBe(ENOENT);
  });

  it("the reservation is answered to the parent (its pid, or EAGAIN at the pid limit), and the claim fails the same way", async () => {
    const { parent, ppid } = await start(["--pid-max", "3"]);
    const first = secret();
    expect((await parent.call("vfork", { token: first, proof: secret() })).result).toBe(2);
    const c1 = await child();
    expect((await c1.reply(claimVfork(c1, first, ppid))).result).toBe(2);
    const token = secret();
    const r = await parent.call("vfork", { token, proof: secret() });
    expect(r.result).toBe(EAGAIN);
    const c2 = await child();
    expect((await c2.reply(claimVfork(c2, token, ppid))).result).toBe(EAGAIN);
  });

  it("a child that sends on without reading its parked claim's reply has its later requests handled after the claim, as the thread it binds", async () => {
    const { parent, ppid } = await start();
    const c = await child();
    const token = secret();
    const seq = claimVfork(c, token, ppid);
    // Sent behind the claim, before it is answered: a mask report (posted) and a request.
    c.post("rt_sigprocmask", { how: 2, set: 0x4000 }); // SIG_SETMASK: SIGTERM
    const after = c.request("rt_sigprocmask", { how: 0, set: 0 }); // SIG_BLOCK nothing: the old mask
    await new Promise((r) => setTimeout(r, 100));
    expect(c.replies.get(seq)).toBeUndefined();
    expect(c.replies.get(after)).toBeUndefined();
    parent.post("vfork", { token, proof: secret() });
    expect((await bounded(c.reply(seq), 5000, "the claim's reply")).result).toBe(2);
    // Before, they were handled at once, on an unbound connection: EPROTO, the mask lost.
    const m = await bounded(c.reply(after), 5000, "the request held behind the claim");
    expect([m.result, m.out[0]]).toEqual([0, 0x4000]);
    expect((await c.call("getpid")).result).toBe(2);
  });

  it("the post that arrives first pairs too, and a loop of vforks gets pids in order, as Linux allocates them", async () => {
    const { parent, ppid } = await start();
    for (let i = 0; i < 5; i++) {
      const token = secret();
      parent.post("vfork", { token, proof: secret() });
      const c = await child();
      const r = await c.reply(claimVfork(c, token, ppid));
      expect(r.result).toBe(2 + i);
      c.post("exit_group", { status: i });
      const w = await parent.call("wait4", { pid: -1, options: 0 });
      expect([w.result, w.out[0]]).toEqual([2 + i, i << 8]);
    }
  });

  it("a loop of vforks longer than --max-tasks, each child reaped, never runs out: the spent tokens kept to refuse a second claim make room", async () => {
    const { parent, ppid } = await start(["--max-tasks", "3"]);
    for (let i = 0; i < 8; i++) {
      const token = secret();
      parent.post("vfork", { token, proof: secret() });
      const c = await child();
      const r = await bounded(c.reply(claimVfork(c, token, ppid)), 5000, `vfork ${i + 1}'s claim`);
      expect(r.result).toBeGreaterThan(1);
      c.post("exit_group", { status: 0 });
      expect((await parent.call("wait4", { pid: -1, options: 0 })).result).toBe(r.result);
    }
  });

  it("a reservation that fails (the namespace's pid limit) fails the child's claim with EAGAIN, and makes no child", async () => {
    const { parent, ppid } = await start(["--pid-max", "3"]);
    const first = secret();
    parent.post("vfork", { token: first, proof: secret() });
    const c1 = await child();
    expect((await c1.reply(claimVfork(c1, first, ppid))).result).toBe(2);
    const token = secret();
    parent.post("vfork", { token, proof: secret() });
    const c2 = await child();
    const r = await c2.reply(claimVfork(c2, token, ppid));
    expect(r.result).toBe(EAGAIN);
    expect(String(r.out[0])).toMatch(/pid/);
    // The parent has one child, the first.
    c1.post("exit_group", { status: 0 });
    expect((await parent.call("wait4", { pid: -1, options: 0 })).result).toBe(2);
    expect((await parent.call("wait4", { pid: -1, options: 0 })).result).toBe(-10); // ECHILD
  });

  it("a child killed before it claimed: the claim gives 0 and its pid (not bound), and the parent's wait4 sees status 9", async () => {
    const { parent, ppid } = await start();
    const token = secret();
    parent.post("vfork", { token, proof: secret() });
    // Linux allocates 2 next: SIGKILL acts on the reserved child at once (§7.4).
    expect((await parent.call("kill", { pid: 2, sig: 9 })).result).toBe(0);
    const c = await child();
    const r = await c.reply(claimVfork(c, token, ppid));
    expect([r.result, r.out]).toEqual([0, [2]]);
    expect((await c.call("getpid")).result).toBeLessThan(0); // still unbound
    const w = await parent.call("wait4", { pid: -1, options: 0 });
    expect([w.result, w.out[0]]).toEqual([2, 9]);
  });

  it("a wrong or forged secret is refused, and only that client is affected", async () => {
    const { parent, ppid } = await start();
    const token = secret();
    parent.post("vfork", { token, proof: secret() });
    const bad = await child();
    expect((await bad.reply(claimVfork(bad, "not-a-token", ppid))).result).toBe(EINVAL);
    // The right token naming another parent takes nothing.
    expect((await bad.reply(claimVfork(bad, token, ppid + 5))).result).toBe(ENOENT);
    const other = await child();
    expect((await other.reply(claimVfork(other, token, 0))).result).toBe(ENOENT);
    // A malformed post is refused (logged, no reply) and makes nothing; the parent goes on.
    parent.post("vfork", { token: "x", proof: secret() });
    expect((await parent.call("getpid")).result).toBe(ppid);
    // The real child still claims it.
    const c = await child();
    expect((await c.reply(claimVfork(c, token, ppid))).result).toBe(2);
    expect(bad.isClosed || other.isClosed).toBe(false);
  });

  it("a claim whose post never comes ends at the bound (reserveTimeoutMs) with ETIMEDOUT, and the token is dead", async () => {
    const { parent, ppid } = await start(["--reserve-timeout-ms", "300"]);
    const c = await child();
    const token = secret();
    const t0 = Date.now();
    const r = await bounded(c.reply(claimVfork(c, token, ppid)), 5000, "the claim's end at reserveTimeoutMs");
    expect(r.result).toBe(ETIMEDOUT);
    expect(String(r.out[0])).toMatch(/within 300 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    // A post that comes late makes no child the parent would not know of.
    parent.post("vfork", { token, proof: secret() });
    expect((await parent.call("wait4", { pid: -1, options: 1 })).result).toBe(-10); // ECHILD
  });

  it("a claim waiting for a parent whose connection ends fails at once with ESRCH", async () => {
    const { parent, ppid } = await start();
    const c = await child();
    const seq = claimVfork(c, secret(), ppid);
    await new Promise((r) => setTimeout(r, 100));
    parent.destroy();
    const r = await bounded(c.reply(seq), 5000, "the claim's end once the parent's connection closed");
    expect(r.result).toBe(ESRCH);
  });
});
