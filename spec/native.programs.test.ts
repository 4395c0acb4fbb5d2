/**
 * Unmodified programs from Debian as guests through the preload library: `blinkd run`
 * starts them with LD_PRELOAD, and each scenario runs twice, under blinkd and under a real
 * PID namespace (`unshare --pid --fork --mount-proc`, as root), with the same output and
 * exit status expected (the scenarios: spec/helpers/programs.ts, which spec/blink.programs
 * runs in blink too), and the shared conformance programs likewise.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Where } from "./helpers/launch.js";
import { both, conformance, nativeAsLinux, noLinux, programSuites, runProgram } from "./helpers/programs.js";
import { buildNative } from "./helpers/native.js";
import { NODE_BIN, ROOT } from "./helpers/daemon.js";
import { spawn, spawnSync } from "node:child_process";

describe("through the preload library", () => programSuites("blinkd"));

describe("dash's report of a job killed by a signal", () => {
  // waitone prints "Terminated" only for the job `wait` collects itself; dash's check after
  // every builtin collects a child silently once SIGCHLD has come. On Linux the killed job
  // dies on its own CPU after kill(2) returned, so its SIGCHLD comes later and `wait` collects
  // it: "Terminated". Under blinkd it used to die, and its SIGCHLD come, inside the kill call.
  // That timing races on Linux too (about 3 runs in 100 on a quiet machine; at load 14 blinkd's side once
  // had 2 "Terminated" in 5), so a count out of a fixed number of runs is a bet on the load. What the old
  // behaviour never gave is one "Terminated" at all: each side runs until its first one, at
  // most 20 times (at a 60% chance of the silent reap per run, 0.6^20 = 4e-5 of missing it).
  const SCRIPT = "exec 2>&1; sleep 1 & b=$!; sleep 0.1; kill -TERM $b; wait $b; echo $?\n";
  it("dash prints Terminated for a job it killed and then waits for, as on Linux", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-dash-")), "term.sh");
    fs.writeFileSync(file, SCRIPT);
    const MAX = 20;
    const runsUntilTerminated = async (at: Where): Promise<number> => {
      for (let i = 1; i <= MAX; i++) {
        const r = await runProgram(at, ["dash", file]);
        expect(r.code).toBe(0);
        expect(["Terminated\n143\n", "143\n"]).toContain(r.out);
        if (r.out.startsWith("Terminated")) return i;
      }
      return Infinity;
    };
    if (!noLinux) expect(await runsUntilTerminated("linux"), `Linux's dash printed Terminated in none of ${MAX} runs`).toBeLessThanOrEqual(MAX);
    expect(await runsUntilTerminated("blinkd"), `dash under blinkd printed Terminated in none of ${MAX} runs`).toBeLessThanOrEqual(MAX);
  }, 300_000);
});

describe("signals the host kernel sends too, once each", () => {
  // Under the preload the host's groups, sessions, stops and subreaper mirror the namespace's,
  // so the host kernel sends its own copy of some of the daemon's signals: each must run the
  // handler once, with the namespace's siginfo (clients/c/preload/groups.c).
  it.each([
    // kill_orphaned_pgrp: one SIGHUP and one SIGCONT (host_orphan_signal).
    ["an exit that orphans a group with a stopped member: one SIGHUP and one SIGCONT", "orphan_once", "p: c stopped; exiting\nc: SIGHUP 1 time(s), SIGCONT 1 time(s)\n"],
    // The same with both blocked until after the continue: the host's copy and the daemon's
    // doorbell are pending together and merge (a standard signal is pending once).
    ["the same with SIGHUP and SIGCONT blocked while both copies come: one each", "orphan_once blocked", "p: c stopped; exiting\nc: SIGHUP 1 time(s), SIGCONT 1 time(s)\n"],
    // A child forked before an execve: its SIGCHLD runs the new image's handler once (BLINKD_KIDS).
    ["a child forked before an execve: one SIGCHLD to the new image, with the child's pid", "execkids", "waitpid: the child, status 7; SIGCHLD handled 1 time(s), si_pid the child's\n"],
    // An adopted orphan's end: one SIGCHLD to init, with its pid in the namespace (host_subreaper).
    // A guest child's end while its parent's destructors run (exit(3) has begun): the handler
    // runs with the child's pid, nothing on stderr.
    ["a SIGCHLD while exit(3) runs the destructors: the handler sees the child's pid", "exitlate", "destructor done; the handler saw another pid 0 time(s), the child's 1 time(s)\nexited 3\n"],
    ["an adopted child's end: one SIGCHLD to init with the child's pid", "adopt_sigchld", "reaped 3 (status 5); SIGCHLD handled 2 time(s): pid 2 code 1; pid 3 code 1;\n"],
  ])("%s, as on Linux", (_what, prog, out) => {
    const [name, ...args] = prog.split(" ");
    return nativeAsLinux(name!, args, out);
  });
});

describe("vfork", () => {
  // The preload's vfork is reached by a jump (it returns twice in its caller's frame): a
  // guest's child attaches in its parent's memory and the parent puts its state back; a
  // non-guest's is glibc's own.
  it("as a guest: the children are pids 2, 3, 4, a failed exec's _exit status reaches the parent, as under unshare --pid; with the preload but no daemon, glibc's vfork runs", async () => {
    const prog = buildNative("vforks");
    const r = await both([prog]);
    expect(r.blinkd.out).toBe("child 2\nparent 1: vfork returned 2, status 7\nchild 3\nparent 1: vfork returned 3, status 7\nparent 1: vfork returned 4, status 127\n");
    if (r.linux) expect(r.blinkd).toEqual(r.linux);
    const lib = path.join(ROOT, "dist/c/libblinkd-preload.so");
    expect(fs.existsSync(lib)).toBe(true);
    const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: lib };
    for (const k of ["BLINKD_SOCKET", "BLINK_PREFIX", "BLINKD_TOKEN"]) delete env[k];
    const plain = spawnSync(prog, { env, encoding: "utf8" });
    expect(plain.stderr).toBe(""); // ld.so says so on stderr when the library is not loaded
    const out = plain.stdout;
    expect(out).toMatch(/^child (\d+)\nparent \d+: vfork returned \1, status 7\nchild (\d+)\nparent \d+: vfork returned \2, status 7\nparent \d+: vfork returned \d+, status 127\n$/);
  }, 60_000);
});

describe("popen", () => {
  // glibc's popen spawns with its internal posix_spawn, which no interposition sees; the
  // preload makes popen and pclose itself (clients/c/preload/popen.c) so the child is the
  // caller's, as on Linux.
  it("the child of popen is the caller's child: $PPID, WNOHANG 0 while it lives, pclose's status, modes, 300 streams at once, as under unshare --pid", async () => {
    const r = await both([buildNative("popen")]);
    expect(r.blinkd.out).toBe(
      "r: the child's parent is 2, the caller 2; pclose 0\nWNOHANG while it lives: 0, no error\nw: pclose gives exited 4\nWRITTEN TO THE CHILD\nw: pclose 0\n" +
        "close-on-exec: r 0, re 1\nan earlier stream in a later child: closed\nmode x: NULL, Invalid argument\n300 streams at once: 300 opened, 300 pclosed with status 0\nwait after the pcloses: -1, No child processes\ncaller 2: exited 0\n",
    );
    expect(r.blinkd.code).toBe(0);
    if (r.linux) expect(r.blinkd).toEqual(r.linux);
  }, 60_000);
});

describe("posix_spawn of a program that runs without the preload", () => {
  // A spawned child claims its pid in its new image, which a static program never does: the
  // daemon held it reserved until the reservation timed out, so waitpid returned after 10 s.
  // The preload spawns such a program through dist/c/blinkd-spawn (clients/c/preload/fork.c).
  it("a static program spawned with posix_spawn and posix_spawnp, and (as root) a set-user-ID one: its argv as given, waitpid's status at once, as under unshare --pid", async () => {
    const target = buildNative("static_target", ["-static"]);
    // As root: a dynamic copy set-user-ID to nobody (AT_SECURE: the loader drops LD_PRELOAD).
    // Where the directory is mounted nosuid the bit does nothing and the preload loads: at once too.
    const setid = process.getuid?.() === 0 ? buildNative("static_target") : undefined;
    if (setid) fs.chownSync(setid, 65534, 65534), fs.chmodSync(setid, 0o4755), fs.chmodSync(path.dirname(setid), 0o755);
    const r = await both([buildNative("spawnstatic"), target, path.dirname(target), ...(setid ? [setid] : [])]);
    expect(r.blinkd.out).toBe(
      "static target: argv[0] named-zero\nposix_spawn: waitpid gives the child yes, exited 5, at once\n" +
        "static target: argv[0] static_target\nposix_spawnp: waitpid gives the child yes, exited 7, at once\n" +
        (setid ? "static target: argv[0] set-id\nposix_spawn set-id: waitpid gives the child yes, exited 9, at once\n" : ""),
    );
    expect(r.blinkd.code).toBe(0);
    if (r.linux) expect(r.blinkd).toEqual(r.linux);
  }, 60_000);
});

/** argv's stdout, stderr and exit code, killed at ms. */
const collect = (argv: string[], ms: number): Promise<{ out: string; err: string; code: number | null }> =>
  new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), ms);
    p.once("close", (code) => {
      clearTimeout(t);
      resolve({ out, err, code });
    });
  });

/**
 * `prog mode` as PID 1 with pid_max 301 under `blinkd run`, then under unshare where the kernel
 * has a pid_max per pid namespace (Linux 6.14, kernel/pid_sysctl.h; skipped, said so, before):
 * blinkd's result must be `want`, and Linux's the same.
 */
async function atPidMax301<T extends { code: number | null }>(prog: string, mode: string, run: (argv: string[]) => Promise<T>, want: T): Promise<void> {
  const blinkd = await run([process.execPath, ...NODE_BIN, "run", "--pid-max", "301", "--", prog, mode]);
  expect(blinkd).toEqual(want);
  if (noLinux) return;
  const linux = await run(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", `echo 301 > /proc/sys/kernel/pid_max 2>/dev/null || exit 99; exec ${prog} ${mode}`]);
  if (linux.code === 99) return console.warn("SKIPPED the Linux side of the vfork pid limit: this kernel has no pid_max per pid namespace (before 6.14)");
  expect(linux).toEqual(blinkd);
}

describe("vfork without a wait on either side before the exec (spec/protocol.md §7.4.1)", () => {
  // The parent sends the reservation under its own token and vforks at once, reading its pid
  // from the reply once it resumes; the child sends its claim and execs at once.
  it("a loop of 20 vforks: each child's pid, getppid and exit status as under unshare --pid, pids in order", async () => {
    const prog = buildNative("vforkloop");
    const r = await both([prog, "20"]);
    const want = Array.from({ length: 20 }, (_, i) => `child ${i + 2} of 1\nparent 1: vfork returned ${i + 2}, status ${i % 7}\n`).join("");
    expect(r.blinkd.out).toBe(want);
    expect(r.blinkd.err).toBe("");
    if (r.linux) expect(r.blinkd).toEqual(r.linux);
  }, 60_000);

  it("at the namespace's pid limit vfork fails with -1 EAGAIN and makes no child, as Linux's (pid_max 301 in the namespace)", async () => {
    const prog = buildNative("vforkloop");
    const run = (argv: string[]): Promise<{ out: string; err: string; code: number | null }> => collect(argv, 50_000);
    // pid_max is a pid namespace's own since Linux 6.14 (kernel/pid_sysctl.h); 301 is its least
    // value (RESERVED_PIDS + 1): pids 1 … 300, so PID 1 makes 299 children.
    const want = "made 299 children, then vfork: -1 EAGAIN\nreaped 299\n";
    await atPidMax301(prog, "limit", run, { out: want, err: "", code: 0 });
  }, 120_000);

  it("at the pid limit, the child that exec'd finds its claim failed in its new image and runs nothing of the program; the parent's vfork is -1 EAGAIN, as Linux's", async () => {
    const prog = buildNative("vforkloop");
    const run = async (argv: string[]): Promise<{ ran: number; rest: string; err: string; code: number | null }> => {
      const { out, err, code } = await collect(argv, 80_000);
      // The children's lines and the parent's interleave as the host schedules them.
      const lines = out.split("\n").filter((l) => l !== "");
      return { ran: lines.filter((l) => l === "ran").length, rest: lines.filter((l) => l !== "ran").join("\n"), err, code };
    };
    // 299 children each ran echo; the 300th vfork made none, and its host child's image ended
    // before echo's main (the constructor read the claim's EAGAIN and exited unseen).
    const want = { ran: 299, rest: "made 299 children, then vfork: -1 EAGAIN\nreaped 299", err: "", code: 0 };
    await atPidMax301(prog, "limitexec", run, want);
  }, 180_000);

  it("the child execs without waiting for its claim's reply: with the daemon stopped (SIGSTOP) from just before the vfork, the child's host process is already /bin/true's image, and all ends well once it runs on", async () => {
    const prog = buildNative("vforkloop");
    const p = spawn(process.execPath, [...NODE_BIN, "run", "--", prog, "gate"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const ready = new Promise<void>((resolve) =>
      p.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready\n")) resolve();
      }),
    );
    p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => p.once("close", resolve));
    const kill = setTimeout(() => p.kill("SIGKILL"), 60_000);
    const ppidOf = (pid: string): number => {
      try {
        const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      } catch {
        return -1;
      }
    };
    const childrenOf = (pid: number): string[] => fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e) && ppidOf(e) === pid);
    const exeOf = (pid: string): string => {
      try {
        return fs.readlinkSync(`/proc/${pid}/exe`);
      } catch {
        return "(gone)";
      }
    };
    let seen = "(no vfork child seen)";
    try {
      await ready;
      // The daemon is the run process itself: stopped, it reads nothing and answers nothing.
      process.kill(p.pid!, "SIGSTOP");
      p.stdin!.write("x");
      const until = Date.now() + 5000;
      const want = fs.realpathSync("/bin/true");
      while (Date.now() < until) {
        const guest = childrenOf(p.pid!)[0];
        const child = guest === undefined ? undefined : childrenOf(Number(guest))[0];
        if (child !== undefined) seen = exeOf(child);
        if (seen === want) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // Before, the child waited for hello's and claim_vfork's replies before its exec: still
      // the vforking program's image (its host process suspended in ppoll) at the bound.
      expect(seen, "the vfork child's image while the daemon was stopped").toBe(want);
    } finally {
      if (p.pid) process.kill(p.pid, "SIGCONT");
    }
    const code = await closed;
    clearTimeout(kill);
    expect({ out, err, code }).toEqual({ out: "ready\nparent 1: vfork returned 2, status 0\n", err: "", code: 0 });
  }, 90_000);
});

describe("the shared conformance programs", () => conformance("blinkd"));
