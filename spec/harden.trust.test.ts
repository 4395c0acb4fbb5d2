/**
 * What the daemon trusts (issue 15). A dropped privilege holds: the preload reports
 * setuid/setresuid/setgid/setgroups…, so kill's permission and /proc's access follow the
 * process's credentials as on Linux, its connection is close-on-exec, and its children still
 * reach the daemon after the drop (through the door) and claim their pids, as Linux lets any
 * process fork whatever its uid. A guest's word about its host pid is not taken: only a host
 * process that proves it (a descriptor named with the connection's nonce) is ever signalled
 * or read; an unproven one has no host process and the overflow uid. /proc applies Linux's
 * access rules (ptrace_may_access, the owner-only fd directories) between users.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_BIN } from "../fuzz/daemon.js";
import { hardenSetup } from "./helpers/harden.js";
import { buildNative } from "./helpers/native.js";
import { Raw, StandIn } from "./helpers/raw.js";
import { frame } from "../src/protocol/frame.js";
import { requestMessage } from "../src/protocol/messages.js";
import { PROTOCOL_VERSION, callByName } from "../src/protocol/index.js";

const { daemon } = hardenSetup("trust");
const root = process.getuid?.() === 0;
if (!root) process.stderr.write("harden.trust: the comparisons with Linux are SKIPPED, they need root (unshare --pid, setpriv)\n");

const standIns: StandIn[] = [];
afterAll(() => {
  for (const s of standIns) s.kill();
});
const standIn = (): StandIn => {
  const s = StandIn.start();
  standIns.push(s);
  return s;
};

/** Runs `sh -c SCRIPT` as PID 1 under blinkd run or in a real PID namespace; its output (stderr after stdout) and status. */
function asInit(where: "blinkd" | "linux", script: string): { out: string; err: string; code: number | null } {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-trust-"));
  const cmd = where === "blinkd" ? [process.execPath, ...NODE_BIN, "run", "--prefix", prefix, "--", "sh", "-c", script] : ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 30_000 });
  fs.rmSync(prefix, { recursive: true, force: true });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe("a dropped privilege holds", () => {
  it.skipIf(!root)("after setpriv drops to uid 1001, kill of root's process is EPERM, and the children still claim their pids, as in a real PID namespace", () => {
    const script = 'sleep 100 & exec setpriv --reuid=1001 --regid=1001 --clear-groups sh -c "kill -9 2 2>&1; echo kill=\\$?; /bin/true; echo true=\\$?; sleep 0.1 & wait \\$!; echo child=\\$?; id -u"';
    const linux = asInit("linux", script);
    const blinkd = asInit("blinkd", script);
    expect(linux.out).toMatch(/Operation not permitted\n+kill=1\ntrue=0\nchild=0\n1001\n$/);
    expect(blinkd).toEqual({ ...linux, err: "" });
  }, 60_000);

  it("the connection and the door are close-on-exec: a program reached by an exec through the preload gets them back, nothing else inherits them", () => {
    const r = asInit("blinkd", 'grep ^flags /proc/self/fdinfo/$BLINKD_FD; grep ^flags /proc/self/fdinfo/$BLINKD_DOOR');
    expect(r.err).toBe("");
    const [conn, door] = r.out.trim().split("\n").map((l) => parseInt(l.split(/\s+/)[1]!, 8));
    const O_CLOEXEC = 0o2000000;
    const O_PATH = 0o10000000;
    expect(conn! & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(door! & (O_CLOEXEC | O_PATH)).toBe(O_CLOEXEC | O_PATH);
  }, 30_000);
});

describe("a guest's host pid is taken only when that process proves it", () => {
  let d: Awaited<ReturnType<typeof daemon>>;
  let init: Raw;
  beforeAll(async () => {
    d = await daemon();
    init = await Raw.open(d.socket);
    expect(await init.register(standIn())).toBe(1);
  });

  const hostpidOf = async (pid: number): Promise<number> => {
    const ctl = await Raw.open(d.socket);
    await ctl.hello("control");
    const ps = (await ctl.call("ps")).out[0] as { pid: number; hostpid: number }[];
    ctl.sock.destroy();
    return ps.find((p) => p.pid === pid)!.hostpid;
  };

  it("a client that names an unrelated host process gets no host process: killing its guest leaves that process alone, and its uid is the overflow uid", async () => {
    const victim = spawn("sleep", ["100"], { stdio: "ignore" });
    try {
      const liar = await Raw.open(d.socket);
      const pid = await liar.register(victim.pid!);
      expect(await hostpidOf(pid)).toBe(0);
      const status = (await liar.call("proc_read", { path: "self/status" })).out[0] as Uint8Array;
      expect(Buffer.from(status).toString()).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
      // It kills itself: init, unless root, may not signal the overflow uid's process (kill_ok_by_cred).
      void liar.call("kill", { pid, sig: 9 });
      const dead = async (): Promise<boolean> => {
        const ctl = await Raw.open(d.socket);
        await ctl.hello("control");
        const ps = (await ctl.call("ps")).out[0] as { pid: number; state: string }[];
        ctl.sock.destroy();
        const p = ps.find((x) => x.pid === pid);
        return !p || p.state === "zombie" || p.state === "reaped";
      };
      for (const t0 = Date.now(); Date.now() - t0 < 5000 && !(await dead()); ) await new Promise((r) => setTimeout(r, 50));
      expect(await dead(), "the guest died of its SIGKILL").toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(victim.exitCode).toBe(null);
      expect(victim.signalCode).toBe(null);
      liar.sock.destroy();
    } finally {
      victim.kill("SIGKILL");
    }
  });

  it("a host process that proves it is signalled (a default action kills it) and gives its uids", async () => {
    const host = standIn();
    const g = await Raw.open(d.socket);
    const pid = await g.register(host);
    expect(await hostpidOf(pid)).toBe(host.pid);
    const status = Buffer.from((await g.call("proc_read", { path: "self/status" })).out[0] as Uint8Array).toString();
    const uid = process.getuid!();
    expect(status).toMatch(new RegExp(`^Uid:\\t${uid}\\t${uid}\\t${uid}\\t${uid}$`, "m"));
    expect(Number((await init.call("kill", { pid, sig: 9 })).result)).toBe(0);
    expect(await host.exited).toEqual({ code: null, signal: "SIGKILL" });
    g.sock.destroy();
  });

  it("a proof is this connection's: a process holding another connection's proof does not pass", async () => {
    const host = standIn();
    const a = await Raw.open(d.socket);
    await a.helloOk();
    await host.prove(a.nonce);
    const b = await Raw.open(d.socket);
    await b.helloOk();
    const pid = Number((await b.call("register", { hostpid: host.pid, exe: "/b", argv: ["b"], delivery: 0 })).result);
    expect(await hostpidOf(pid)).toBe(0);
    a.sock.destroy();
    b.sock.destroy();
  });

  /** hello and claim_fd as one write, the way a fork child sends them (spec/protocol.md §7.4). */
  async function claimInOneWrite(token: string, hostpid: number, fd: number): Promise<{ c: Raw; pid: number }> {
    const c = await Raw.open(d.socket);
    const hs = c.seq(), cs = c.seq();
    c.write(Buffer.concat([frame(requestMessage(hs, callByName("hello"), { version: PROTOCOL_VERSION, role: "guest", client: "one write" })), frame(requestMessage(cs, callByName("claim_fd"), { token, hostpid, fd }))]));
    expect(Number((await c.reply(hs)).result)).toBe(0);
    const r = await c.reply(cs);
    expect(Number(r.result), String(r.out[0])).toBeGreaterThan(0);
    return { c, pid: Number(r.out[0]) };
  }

  it("claim_fd: a fork child's hello and claim in one write, proven by the reservation's proof at the descriptor it names (no nonce needed)", async () => {
    const host = standIn();
    const { token, proof, pid } = await init.fork();
    const fd = await host.prove(proof);
    const { c, pid: got } = await claimInOneWrite(token, host.pid, fd);
    expect(got).toBe(pid);
    expect(await hostpidOf(pid)).toBe(host.pid);
    // proven: the daemon signals that process (SIGKILL's default action)
    expect(Number((await init.call("kill", { pid, sig: 9 })).result)).toBe(0);
    expect(await host.exited).toEqual({ code: null, signal: "SIGKILL" });
    c.sock.destroy();
  });

  it("claim_fd proves nothing with another descriptor, another reservation's proof, or the right descriptor number of another process", async () => {
    const host = standIn();
    const other = await init.fork();
    const otherFd = await host.prove(other.proof);
    const victim = spawn("sleep", ["100"], { stdio: "ignore" });
    try {
      for (const [what, hostpid, fd] of [
        ["another reservation's proof", host.pid, otherFd],
        ["a descriptor that is no proof (its stdin)", host.pid, 0],
        ["a descriptor it does not have", host.pid, 999],
        ["another process at the proof's number", victim.pid!, otherFd],
      ] as const) {
        const { token, proof, pid } = await init.fork();
        await host.prove(proof); // this reservation's proof is held, but not at the descriptor named
        const { c } = await claimInOneWrite(token, hostpid, fd);
        expect(await hostpidOf(pid), what).toBe(0);
        c.sock.destroy();
      }
      // the other reservation, at its own proof, is proven
      const { c } = await claimInOneWrite(other.token, host.pid, otherFd);
      expect(await hostpidOf(other.pid)).toBe(host.pid);
      c.sock.destroy();
    } finally {
      victim.kill("SIGKILL");
    }
  });
});

describe("/proc between users follows Linux's access rules", () => {
  it.skipIf(!root)("a process that dropped to uid 1001 may not read root's environ, exe, cwd, fd or fdinfo, nor its own zombie child's environ or fd, and may read their status, cmdline and stat, as in a real PID namespace", async () => {
    const exe = buildNative("procaccess");
    const linux = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", exe], { encoding: "utf8", timeout: 30_000 });
    expect(linux.status, linux.stderr).toBe(0);
    const paths = linux.stdout.trim().split("\n").map((l) => l.slice(0, l.indexOf(":")));

    const d = await daemon();
    const init = await Raw.open(d.socket);
    const host = standIn();
    expect(await init.register(host)).toBe(1);
    const { pid, token } = await init.fork();
    const child = await Raw.open(d.socket);
    expect(await child.claim(token, host)).toBe(pid);
    expect(Number((await child.call("report_gids", { rgid: 1001, egid: 1001, sgid: 1001, fsgid: 1001, groups: [] })).result)).toBe(0);
    expect(Number((await child.call("setresuid", { ruid: 1001, euid: 1001, suid: 1001 })).result)).toBe(0);
    // The child's own child, a zombie, as the program's third process.
    const g = await child.fork();
    const gc = await Raw.open(d.socket);
    expect(await gc.claim(g.token, standIn())).toBe(3);
    await gc.call("exit_group", { status: 0 });
    gc.sock.destroy();
    const lines: string[] = [];
    const names: Record<number, string> = { 13: "EACCES", 2: "ENOENT", 1: "EPERM", 3: "ESRCH" };
    for (const p of paths) {
      const r = Number((await child.call("proc_read", { path: p })).result);
      lines.push(`${p}: ${r >= 0 ? "ok" : (names[-r] ?? String(-r))}`);
    }
    expect(lines.join("\n")).toBe(linux.stdout.trim());
    child.sock.destroy();
    init.sock.destroy();
  }, 60_000);
});
