/**
 * `blinkd run` and where the daemon listens: the exit status of PID 1 (128+N for a
 * signal), init's death killing the rest of the namespace on the host, and the socket
 * path rules (sun_path, a live daemon, a stale socket, ownership and modes).
 */
import { afterAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { NODE_BIN, ROOT, cli, serve, tempPrefix, type Served } from "./helpers/daemon.js";
import { Raw } from "./helpers/raw.js";
import { withoutRoot } from "./helpers/root.js";

const cleanup: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** The state letter of a host process, or undefined once it is gone. */
function hostState(pid: number): string | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return s.slice(s.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

describe("blinkd run", () => {
  it("exits with PID 1's exit code", async () => {
    const r = await cli(["run", "--prefix", tempPrefix(), "--", "sh", "-c", "exit 7"]);
    expect(r.code).toBe(7);
  });

  it("exits with 128+N when PID 1 dies of signal N", async () => {
    for (const [sig, code] of [["KILL", 137], ["TERM", 143]] as const) {
      // Killed on the host (Node.js is not preloaded): a guest's own kill(getpid(), SIGKILL)
      // goes through the daemon and, as on Linux, init ignores it (SIGNAL_UNKILLABLE).
      const r = await cli(["run", "--prefix", tempPrefix(), "--", process.execPath, "-e", `process.kill(process.pid, "SIG${sig}")`]);
      expect(r.code, sig).toBe(code);
    }
  });

  it("a command that cannot start is 127, with a message", async () => {
    const r = await cli(["run", "--prefix", tempPrefix(), "--", "/nonexistent/program"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cannot start \/nonexistent\/program/);
  });

  it("init's death kills the remaining guests' host processes (zap_pid_ns_processes) and run exits with init's status", async () => {
    const r = await cli(["run", "--prefix", tempPrefix(), "--", process.execPath, path.join(ROOT, "spec/guests/init-leaves.mjs"), "3"], { BLINKD_TRACE: "1" }, 60_000);
    expect(r.code, r.stderr).toBe(3);
    // BLINKD_TRACE=1: one readable line per call and reply.
    // the Node.js guest names its proof's descriptor (claim_fd); fork's proof secret is hidden as its token is
    expect(r.stderr).toMatch(/blinkd: \[conn \d+\] #2 claim_fd\(token="…[0-9a-f]{4}", hostpid=\d+, fd=\d+\)/);
    expect(r.stderr).toMatch(/blinkd: \[1\/1\] #\d+ fork = 2 \{token: "…[0-9a-f]{4}", proof: "…[0-9a-f]{4}"\}/);
    expect(r.stderr).toMatch(/blinkd: \[1\/1\] #\d+ exit_group\(status=3\)/);
    const m = /init 1 child 2 host (\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const hostpid = Number(m![1]);
    // The child would have slept forever: it is dead (gone, or a zombie of its host parent).
    let st = hostState(hostpid);
    for (let i = 0; i < 100 && st !== undefined && st !== "Z"; i++) {
      await new Promise((res) => setTimeout(res, 50));
      st = hostState(hostpid);
    }
    expect([undefined, "Z"]).toContain(st);
  });
});

describe("blinkd run's start-up", () => {
  // codec.ts loads msgpack-lite at the first value its fast paths leave to it: its ~40
  // CommonJS modules were ~35 ms of every command's start-up (bench/README.md, 20e).
  it("a run whose frames all take the codec's fast paths never loads msgpack-lite", async () => {
    const r = await cli(["run", "--prefix", tempPrefix(), "--", "sh", "-c", "exit 5"], { NODE_DEBUG: "module" });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/MODULE \d+: /);
    expect(r.stderr).not.toMatch(/msgpack-lite/);
  });

  // src/cli/codecache.ts: the build's last step leaves V8's code cache beside the bundle,
  // and V8 takes it with bin/blinkd.js's #! flags (not without them: the flags are in its check).
  it("the command's bundle compiles from the code cache the build made, with the #! line's flags", async () => {
    const check = `import { compileBundle } from ${JSON.stringify(path.join(ROOT, "dist/src/cli/codecache.js"))}; process.stdout.write(String(compileBundle().cachedDataRejected));`;
    const rejected = (flags: string[]) =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, [...flags, "--input-type=module", "-e", check], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout!.on("data", (b: Buffer) => (out += b.toString()));
        p.on("exit", () => resolve(out));
      });
    expect(await rejected(NODE_BIN.filter((a) => a.startsWith("--")))).toBe("false");
    expect(await rejected([])).toBe("true");
  });
});

describe("the daemon's Node.js flags", () => {
  it("a daemon the spec helpers start runs with bin/blinkd.js's #! flags (2 MB semi-spaces), as the blinkd command runs", async () => {
    const shebang = fs.readFileSync(path.join(ROOT, "bin/blinkd.js"), "utf8").split("\n", 1)[0]!;
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S .* node .*--max-semi-space-size=2/);
    const d = await serve();
    cleanup.push(() => d.stop());
    const argv = fs.readFileSync(`/proc/${d.proc.pid}/cmdline`, "utf8").split("\0");
    for (const flag of shebang.split(" ").filter((a) => a.startsWith("--"))) expect(argv).toContain(flag);
    const environ = fs.readFileSync(`/proc/${d.proc.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("MALLOC_TRIM_THRESHOLD_=4194304");
  });

  // The #! line's malloc setting is the daemon's alone (src/cli/callerenv.ts): run through the
  // line itself (env -S), the daemon has it and PID 1 gets the caller's environment back.
  it("bin/blinkd.js run: the daemon starts with MALLOC_TRIM_THRESHOLD_=4194304, its guest has the caller's value or none", async () => {
    const script = 'read -r l < /proc/self/stat; set -- $l; tr "\\0" "\\n" < /proc/$4/environ | grep "^MALLOC_TRIM" | tr "\\n" " "; echo "guest: ${MALLOC_TRIM_THRESHOLD_-unset} ${BLINKD_CALLER_MALLOC_TRIM_THRESHOLD_-unset}"';
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<string>((resolve, reject) => {
        const e = { ...process.env, ...env };
        if (!("MALLOC_TRIM_THRESHOLD_" in env)) delete e.MALLOC_TRIM_THRESHOLD_;
        const p = spawn(path.join(ROOT, "bin/blinkd.js"), ["run", "--prefix", tempPrefix(), "--", "dash", "-c", script], { env: e, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout!.on("data", (b: Buffer) => (out += b.toString()));
        const t = setTimeout(() => (p.kill("SIGKILL"), reject(new Error("blinkd run did not end in 20 s"))), 20_000);
        p.on("exit", () => (clearTimeout(t), resolve(out.trim())));
      });
    expect(await run({})).toBe("MALLOC_TRIM_THRESHOLD_=4194304 guest: unset unset");
    expect(await run({ MALLOC_TRIM_THRESHOLD_: "77" })).toBe("MALLOC_TRIM_THRESHOLD_=4194304 guest: 77 unset");
  }, 40_000);
});

describe("socket paths", () => {
  const serveFails = async (prefix: string, env: NodeJS.ProcessEnv = {}) => {
    const r = await cli(["serve", ...(prefix ? ["--prefix", prefix] : [])], env);
    expect(r.code).toBe(1);
    return r.stderr;
  };

  it("a path too long for sun_path is a clear error", async () => {
    const deep = path.join(tempPrefix(), "p".repeat(100));
    fs.mkdirSync(deep);
    expect(await serveFails(deep)).toMatch(/socket path .*blinkd\.sock is \d+ bytes; a UNIX socket path holds at most 107 \(sun_path\): use a shorter prefix/);
  });

  it("a live daemon already there is an error; a stale socket is replaced", async () => {
    const d = await serve();
    cleanup.push(() => d.stop());
    expect(await serveFails(d.prefix)).toMatch(/a daemon is already serving at .*blinkd\.sock/);
    // Kill it without cleanup: its socket file stays, stale.
    d.proc.kill("SIGKILL");
    await new Promise((r) => d.proc.once("exit", r));
    expect(fs.lstatSync(d.socket).isSocket()).toBe(true);
    const d2 = await serve([], d.prefix);
    cleanup.push(() => d2.stop());
    const c = await Raw.open(d2.socket);
    expect((await c.hello()).result).toBe(0);
    c.destroy();
  });

  it("the default prefix is created 0700 with a 0700 runtime directory; a socket is 0666 only where no other user can reach it by path (for the door of a guest that dropped its uid), else 0600", async () => {
    const xdg = tempPrefix();
    const p = spawn(process.execPath, [...NODE_BIN, "serve"], {
      env: { ...process.env, BLINK_PREFIX: "", XDG_RUNTIME_DIR: xdg },
      stdio: ["ignore", "ignore", "pipe"],
    });
    cleanup.push(() => void p.kill("SIGKILL"));
    await new Promise<void>((resolve) => p.stderr!.on("data", (b: Buffer) => b.toString().includes("serving at") && resolve()));
    const prefix = path.join(xdg, "blinkd");
    expect(fs.statSync(prefix).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(prefix, ".blinkd")).mode & 0o777).toBe(0o700);
    expect(fs.lstatSync(path.join(prefix, "blinkd.sock")).mode & 0o777).toBe(0o666);
    p.kill("SIGTERM");
    await new Promise((r) => p.once("exit", r));
    expect(fs.existsSync(path.join(prefix, "blinkd.sock"))).toBe(false);
    // A prefix others may search: the fixed name is 0600.
    const open = tempPrefix();
    fs.chmodSync(open, 0o755);
    const q = spawn(process.execPath, [...NODE_BIN, "serve", "--prefix", open], { stdio: ["ignore", "ignore", "pipe"] });
    cleanup.push(() => void q.kill("SIGKILL"));
    await new Promise<void>((resolve) => q.stderr!.on("data", (b: Buffer) => b.toString().includes("serving at") && resolve()));
    expect(fs.lstatSync(path.join(open, "blinkd.sock")).mode & 0o777).toBe(0o600);
    q.kill("SIGTERM");
    await new Promise((r) => q.once("exit", r));
  });

  it("a prefix owned by another user, or writable by others, is refused", async () => {
    if (!withoutRoot("a prefix owned by another user (chown)")) {
      const other = tempPrefix();
      fs.chownSync(other, 1234, 1234);
      expect(await serveFails(other)).toMatch(/prefix .* is owned by uid 1234, not by this user \(uid 0\): refusing to use it/);
    }
    const open = tempPrefix();
    fs.chmodSync(open, 0o777);
    expect(await serveFails(open)).toMatch(/prefix .* is writable by others \(mode 777\): refusing to use it/);
    // A sticky world-writable directory (like /tmp) is fine: others cannot replace what is ours.
    const sticky = tempPrefix();
    fs.chmodSync(sticky, 0o1777);
    const d = await serve([], sticky);
    cleanup.push(() => d.stop());
  });

  it("a runtime directory or socket owned by another user, or a non-socket at the fixed name, is refused", async () => {
    if (!withoutRoot("a runtime directory owned by another user (chown)")) {
      const a = tempPrefix();
      fs.mkdirSync(path.join(a, ".blinkd"), { mode: 0o700 });
      fs.chownSync(path.join(a, ".blinkd"), 1234, 1234);
      expect(await serveFails(a)).toMatch(/runtime directory .*\.blinkd is owned by uid 1234/);
    }
    const b = tempPrefix();
    fs.writeFileSync(path.join(b, "blinkd.sock"), "not a socket");
    expect(await serveFails(b)).toMatch(/blinkd\.sock exists and is not a socket: refusing to replace it/);
    if (withoutRoot("a socket owned by another user at the fixed name (chown)")) return;
    const c = tempPrefix();
    const s = net.createServer().listen(path.join(c, "blinkd.sock"));
    await new Promise((r) => s.once("listening", r));
    fs.lchownSync(path.join(c, "blinkd.sock"), 1234, 1234);
    expect(await serveFails(c)).toMatch(/socket .*blinkd\.sock is owned by uid 1234, not by this user: refusing to replace it/);
    s.close();
  });

  it("an explicit prefix that does not exist is an error", async () => {
    expect(await serveFails(path.join(os.tmpdir(), "blinkd-no-such-dir-" + process.pid))).toMatch(/does not exist/);
  });
});
