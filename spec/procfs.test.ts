/**
 * procfs end to end: a known emulated tree (real daemon, one real guest process per
 * emulated process), its /proc files compared field by field with a real process of the
 * same state on this machine, the exported snapshot read by the real procps `ps` and
 * psmisc `pstree`, the guest's reports, and the inspection commands.
 *
 * The tree (pids in allocation order):
 *   1 init            /sbin/init
 *   2 my (server)     "my (server)" --port 80; ignores SIGPIPE, catches SIGUSR2
 *   3   thread        named "wo rk(er)" (prctl PR_SET_NAME)
 *   4 my (server)     child of 2, forked without exec, exited 3: a zombie
 *   5 sleeper         child of 1, setsid: leads session and group 5
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, cli } from "./helpers/daemon.js";
import { Agent } from "./helpers/agent.js";
import { namespace } from "./helpers/namespace.js";
import { writeSnapshot, ExportError } from "../src/cli/procfs.js";
import { withoutRoot } from "./helpers/root.js";
import { PROC_NODE } from "../src/protocol/calls/procfs.js";
import { until } from "./helpers/bounded.js";

const isRoot = process.getuid?.() === 0;
const ns = namespace();
const { track } = ns;
let init: Agent, server: Agent, worker: Agent, zombie: Agent, sleeper: Agent;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-procfs-"));

/** Reads a /proc path through a guest's proc_read: [kind, text]. */
async function read(a: Agent, p: string): Promise<{ kind: number; text: string; target: string; entries: string[] }> {
  const r = await a.ok("proc_read", { path: p });
  return { kind: r.result, text: Buffer.from(r.out!.data as Uint8Array).toString("utf8"), target: r.out!.target as string, entries: r.out!.entries as string[] };
}

/** The fields of a stat line: pid, (comm) and the rest, split as procps does (at the last ')'). */
function statFields(s: string): string[] {
  const open = s.indexOf("(");
  const close = s.lastIndexOf(")");
  return [s.slice(0, open - 1), s.slice(open, close + 1), ...s.slice(close + 2).trimEnd().split(" ")];
}

function statusLines(s: string): [string, string][] {
  return s
    .trimEnd()
    .split("\n")
    .map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i), l.slice(i + 1)] as [string, string];
    });
}

beforeAll(async () => {
  init = ns.init;
  await init.ok("execve", { exe: "/sbin/init", argv: ["/sbin/init"] });
  server = await track(init.fork());
  await server.ok("execve", { exe: "/usr/sbin/my (server)", argv: ["my (server)", "--port", "80"] });
  await server.ok("rt_sigaction", { signo: 13, handler: 1, flags: 0 });
  await server.ok("rt_sigaction", { signo: 12, handler: 2, flags: 0 });
  const t = await server.ok("thread_create");
  worker = await track(Agent.start(ns.daemon.socket, t.out!.token as string));
  await worker.ok("report_comm", { comm: "wo rk(er)" });
  zombie = await track(server.fork({ exec: false }));
  await zombie.exit(3);
  // glibc installs a handler for its internal SIGSETXID (33) once a process has a second
  // thread; the real program of the comparison below has one (its child, forked before,
  // has not), so the guest reports it too.
  await server.ok("rt_sigaction", { signo: 33, handler: 2, flags: 0 });
  sleeper = await track(init.fork());
  await sleeper.ok("setsid");
  await sleeper.ok("execve", { exe: "/usr/bin/sleeper", argv: ["sleeper", "10"] });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the tree as /proc shows it", () => {
  it("lists every process (not threads), and self is the caller", async () => {
    await idle();
    expect([init.pid, server.pid, worker.tid, zombie.pid, sleeper.pid]).toEqual([1, 2, 3, 4, 5]);
    const root = await read(sleeper, "");
    expect(root.kind).toBe(PROC_NODE.DIR);
    expect(root.entries.filter((e) => /^\d+$/.test(e))).toEqual(["1", "2", "4", "5"]);
    expect(await read(sleeper, "self")).toMatchObject({ kind: PROC_NODE.LINK, target: "5" });
    expect(await read(worker, "thread-self")).toMatchObject({ kind: PROC_NODE.LINK, target: "2/task/3" });
    expect((await read(worker, "self/stat")).text).toMatch(/^2 \(my \(server\)\) S 1 /);
    expect((await read(sleeper, "2/task")).entries).toEqual(["2", "3"]);
    // A thread's directory is reachable though not listed, as in Linux.
    expect((await read(sleeper, "3/stat")).text).toMatch(/^3 \(wo rk\(er\)\) S /);
  });

  it("renders stat with the comm in parentheses, unescaped, and the zombie's wait status", async () => {
    await idle();
    const s = statFields((await read(init, "2/stat")).text);
    expect(s).toHaveLength(52);
    expect(s.slice(0, 6)).toEqual(["2", "(my (server))", "S", "1", "0", "0"]);
    expect(s[19]).toBe("2"); // num_threads
    expect(s[32]).toBe(String(1 << 12)); // sigignore: SIGPIPE
    expect(s[33]).toBe(String(1 << 11)); // sigcatch: SIGUSR2
    const z = statFields((await read(init, "4/stat")).text);
    expect(z.slice(0, 4)).toEqual(["4", "(my (server))", "Z", "2"]);
    expect(z[51]).toBe(String(3 << 8));
    const t = statFields((await read(init, "2/task/3/stat")).text);
    expect(t.slice(0, 3)).toEqual(["3", "(wo rk(er))", "S"]);
    expect(t[37]).toBe("-1"); // a thread's exit_signal
  });

  it("renders cmdline, comm, exe and cwd; a zombie has no cmdline, exe or cwd", async () => {
    expect((await read(init, "2/cmdline")).text).toBe("my (server)\0--port\0" + "80\0");
    expect((await read(init, "2/comm")).text).toBe("my (server)\n");
    expect((await read(init, "2/task/3/comm")).text).toBe("wo rk(er)\n");
    expect(await read(init, "2/exe")).toMatchObject({ kind: PROC_NODE.LINK, target: "/usr/sbin/my (server)" });
    expect((await read(init, "2/cwd")).kind).toBe(PROC_NODE.LINK);
    expect((await read(init, "4/cmdline")).text).toBe("");
    for (const p of ["4/exe", "4/cwd", "9/stat", "2/nothing", "2/task/4", "../etc/passwd"]) expect((await init.call("proc_read", { path: p })).ok).toBe(false);
    expect((await init.call("proc_read", { path: "9/stat" })).code).toBe("ENOENT");
    expect((await init.call("proc_read", { path: "1/../2" })).code).toBe("EINVAL");
  });

  it("/proc/stat carries the namespace's process counters and sys/kernel/pid_max its pid_max", async () => {
    const s = (await read(init, "stat")).text;
    // total_forks: 4 processes and 1 thread were created
    expect(s).toMatch(/^processes 5$/m);
    expect(s).toMatch(/^procs_running 0$/m);
    expect(s).toMatch(/^procs_blocked 0$/m);
    expect(s).toMatch(/^btime \d+$/m);
    expect((await read(init, "sys/kernel/pid_max")).text).toBe("32768\n");
  });
});

describe("formats field by field against a real process of the same state", () => {
  let real: ChildProcess;
  let rpid = 0,
    rchild = 0,
    rtid = 0,
    refd1 = 0,
    refd2 = 0;
  const realFile = (p: string): string => fs.readFileSync(`/proc/${p}`, "utf8");

  beforeAll(async () => {
    const exe = path.join(tmp, "my (server)");
    execFileSync("cc", ["-O1", "-pthread", "-o", exe, path.join(ROOT, "spec/native/procstate.c")]);
    // detached: a session of its own without a terminal, like the emulated processes.
    real = spawn(exe, ["--port", "80"], { argv0: "my (server)", detached: true, stdio: ["ignore", "pipe", "inherit"] });
    let line = "";
    createInterface({ input: real.stdout! }).once("line", (l) => (line = l));
    await until("procstate's line of pids", () => line !== "", 20_000);
    [rpid, rchild, rtid, refd1, refd2] = line.split(" ").map(Number) as [number, number, number, number, number];
    // It prints just before pause(): wait until the kernel says both threads sleep.
    const state = (p: string): string => statFields(fs.readFileSync(`/proc/${p}/stat`, "utf8"))[2]!;
    await until("procstate's two threads asleep (S) in /proc", () => state(`${rpid}/task/${rpid}`) === "S" && state(`${rpid}/task/${rtid}`) === "S", 20_000);
  });
  afterAll(() => {
    real.kill("SIGKILL");
  });

  // Fields whose value follows from the state alone (1-based numbers of proc(5)); the rest
  // are pids, times, addresses and counters that differ between any two processes.
  const SAME = [3, 7, 8, 9, 18, 19, 20, 21, 25, 31, 32, 33, 34, 35, 36, 37, 38, 40, 41, 42, 43, 44, 52];

  it("stat: CPU times, priority and nice are the guest's host process's (do_task_stat: task_prio, task_nice), whatever niceness the runner has", async () => {
    // A process of its own, reaped at the end: an ordinary user cannot lower a niceness again.
    const g = await track(init.fork());
    const host = g.proc.pid!;
    const nice = Math.min(19, os.getPriority(host) + 3); // raising one's niceness needs no privilege
    os.setPriority(host, nice);
    for (const [p, r] of [[`${g.pid}/stat`, `${host}/stat`], [`${g.pid}/task/${g.pid}/stat`, `${host}/task/${host}/stat`]] as const) {
      const got = statFields((await read(init, p)).text);
      const want = statFields(realFile(r));
      // priority = p->prio - MAX_RT_PRIO = 120 + nice - 100
      expect([got[17], got[18]], p).toEqual([String(20 + nice), String(nice)]);
      expect([want[17], want[18]], p).toEqual([got[17], got[18]]);
      // utime, stime, cutime, cstime in ticks: an idle Node.js agent's, read a moment apart
      expect(Number(want[13]) + Number(want[14]), `${p}: the agent has used CPU`).toBeGreaterThan(0);
      for (const f of [14, 15, 16, 17]) expect(Math.abs(Number(got[f - 1]) - Number(want[f - 1])), `${p} field ${f}: ${got[f - 1]} vs ${want[f - 1]}`).toBeLessThanOrEqual(2);
    }
    await init.ok("kill", { pid: g.pid, sig: 9 });
    await init.ok("wait4", { pid: g.pid, options: 0 });
  });

  it("stat: a process, its named thread and its zombie child", async () => {
    await idle();
    const pairs: [string, string, number[]][] = [
      [`${rpid}/stat`, "2/stat", SAME],
      [`${rpid}/task/${rtid}/stat`, "2/task/3/stat", SAME],
      [`${rchild}/stat`, "4/stat", [...SAME, 23, 24, 26, 27, 28, 29, 30, 45, 46, 47, 48, 49, 50, 51]],
    ];
    for (const [r, e, fields] of pairs) {
      // The reference sleeps in pause(); a run of the suite under load once read it as R (a
      // moment on a CPU): its state is read again until it is not, for at most 5 s.
      let want = statFields(realFile(r));
      for (const until = Date.now() + 5000; want[2] === "R" && Date.now() < until; want = statFields(realFile(r))) await new Promise((res) => setTimeout(res, 20));
      const got = statFields((await read(init, e)).text);
      expect(got.length, e).toBe(want.length);
      expect(got[1], e).toBe(want[1]); // "(my (server))", "(wo rk(er))"
      for (const f of fields) expect(`${e} field ${f}: ${got[f - 1]}`).toBe(`${e} field ${f}: ${want[f - 1]}`);
    }
  });

  it("status: the same lines in the same order, and the same values where the state decides them", async () => {
    await idle();
    const VARY = new Set(["Tgid", "Pid", "PPid", "NStgid", "NSpid", "NSpgid", "NSsid", "FDSize", "SigQ", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]);
    const pairs: [string, string][] = [
      [`${rpid}/status`, "2/status"],
      [`${rpid}/task/${rtid}/status`, "2/task/3/status"],
      [`${rchild}/status`, "4/status"],
    ];
    for (const [r, e] of pairs) {
      // As in stat's test: the sleeping reference read again while it shows R.
      const running = (ls: [string, string][]): boolean => ls.some(([k, v]) => k === "State" && v.startsWith("\tR"));
      let want = statusLines(realFile(r));
      for (const until = Date.now() + 5000; running(want) && Date.now() < until; want = statusLines(realFile(r))) await new Promise((res) => setTimeout(res, 20));
      const got = statusLines((await read(init, e)).text);
      expect(got.map(([k]) => k), e).toEqual(want.map(([k]) => k));
      for (let i = 0; i < want.length; i++) {
        const [k, v] = want[i]!;
        const g = got[i]![1];
        if (k.startsWith("Vm") || k.startsWith("Rss") || k === "HugetlbPages") expect(g, `${e} ${k}`).toMatch(/^\t[ \d]{8} kB$/);
        else if (k === "SigQ") expect(g, `${e} ${k}`).toMatch(/^\t\d+\/\d+$/);
        else if (VARY.has(k)) expect(g, `${e} ${k}`).toMatch(/^\t\d+$/);
        else expect(`${e} ${k}:${g}`).toBe(`${e} ${k}:${v}`);
      }
    }
  });

  it("comm, cmdline and the zombie's empty files match", async () => {
    expect((await read(init, "2/comm")).text).toBe(realFile(`${rpid}/comm`));
    expect((await read(init, "2/task/3/comm")).text).toBe(realFile(`${rpid}/task/${rtid}/comm`));
    expect((await read(init, "2/cmdline")).text).toBe(realFile(`${rpid}/cmdline`));
    expect((await read(init, "4/cmdline")).text).toBe(realFile(`${rchild}/cmdline`));
    // A zombie's environ cannot be opened: ESRCH, as Linux says to root. (To any other user
    // Linux says EACCES first: a zombie's files are root's, task_dump_owner; so does blinkd,
    // spec/harden.trust.test.ts.)
    if (!withoutRoot("a zombie's environ: Linux says EACCES to a user, before ESRCH")) expect(() => realFile(`${rchild}/environ`)).toThrow(/ESRCH/);
    // The reader is this test's uid: root gets ESRCH (mm_access), anyone else EACCES first.
    expect((await init.call("proc_read", { path: "4/environ" })).code).toBe(process.getuid?.() === 0 ? "ESRCH" : "EACCES");
  });

  it("maps: a native guest's is its host process's memory map (the same files mapped), a zombie's reads empty", async () => {
    const files = (t: string): string[] => [...new Set(t.split("\n").map((l) => l.split(/\s+/).slice(5).join(" ")).filter((f) => f.startsWith("/")))].sort();
    const ours = (await read(init, `${sleeper.pid}/maps`)).text;
    const real = fs.readFileSync(`/proc/${sleeper.proc.pid}/maps`, "utf8");
    for (const l of ours.trimEnd().split("\n")) expect(l).toMatch(/^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+/);
    expect(files(ours)).toContain(fs.realpathSync(process.execPath));
    expect(files(ours)).toEqual(files(real));
    expect((await read(init, `${sleeper.pid}`)).entries).toContain("maps");
    // proc_maps_open finds no mm: an empty file, as Linux gives (spec/native/procaccess.c reads one).
    expect((await read(init, `${zombie.pid}/maps`)).text).toBe("");
  });

  it("fd and fdinfo of eventfds: the same link target and lines (the ids are the file's own)", async () => {
    const e1 = (await sleeper.ok("eventfd2", { initval: 5, flags: 1 | 0o4000 })).result;
    const e2 = (await sleeper.ok("eventfd2", { initval: 0, flags: 0o2000000 })).result;
    expect((await read(init, "5/fd")).entries).toEqual([String(e1), String(e2)]);
    for (const [r, e] of [
      [refd1, e1],
      [refd2, e2],
    ] as const) {
      expect((await read(init, `5/fd/${e}`)).target).toBe(fs.readlinkSync(`/proc/${rpid}/fd/${r}`));
      const want = realFile(`${rpid}/fdinfo/${r}`).replace(/^eventfd-id: \d+$/m, "eventfd-id: N");
      expect((await read(init, `5/fdinfo/${e}`)).text.replace(/^eventfd-id: \d+$/m, "eventfd-id: N")).toBe(want);
    }
    await sleeper.ok("close", { fd: e1 });
    await sleeper.ok("close", { fd: e2 });
    expect((await read(init, "5/fd")).entries).toEqual([]);
  });

  it("status escapes a newline and a backslash in Name, as Linux does; stat does not", async () => {
    const t = await server.ok("thread_create");
    const w2 = await track(Agent.start(ns.daemon.socket, t.out!.token as string));
    await w2.ok("report_comm", { comm: "a\\b\nc" });
    const real2 = fs.readFileSync(`/proc/${rpid}/task/${rtid}/status`, "utf8"); // for the format of Name
    expect(real2).toMatch(/^Name:\two rk\(er\)\n/);
    expect((await read(init, `2/task/${w2.tid}/status`)).text).toMatch(/^Name:\ta\\\\b\\nc\n/);
    expect((await read(init, `2/task/${w2.tid}/stat`)).text.startsWith(`${w2.tid} (a\\b\nc) S`)).toBe(true);
    await w2.ok("exit", { status: 0 });
    expect((await read(init, "2/task")).entries).toEqual(["2", "3"]);
  });
});

describe("what the guest reports", () => {
  it("environ, cwd, group ids and memory figures show in /proc; execve forgets environ and memory", async () => {
    await sleeper.ok("report_environ", { environ: Buffer.from("A=1\0B=two words\0") });
    await sleeper.ok("report_cwd", { cwd: "/srv/data dir" });
    await sleeper.ok("report_gids", { rgid: 100, egid: 101, sgid: 102, fsgid: 101, groups: [20, 10] });
    const mb = (n: number): bigint => BigInt(n) << 20n;
    const mem = { size: mb(8), rss: mb(2), rssAnon: mb(1), rssFile: mb(1), rssShmem: 0n, data: mb(3), stk: 132n << 10n, exe: 20n << 10n, lib: mb(1), lck: 0n, pin: 0n, pte: 40n << 10n, swap: 0n };
    await sleeper.ok("report_mem", mem);
    await sleeper.ok("report_mem", { ...mem, size: mb(6), rss: mb(1) });
    // Read by the process itself: with other gids than init's, init may not (ptrace_may_access), unless root.
    expect((await read(sleeper, "5/environ")).text).toBe("A=1\0B=two words\0");
    expect((await read(sleeper, "5/cwd")).target).toBe("/srv/data dir");
    const st = (await read(init, "5/status")).text;
    expect(st).toMatch(/^Gid:\t100\t101\t102\t101$/m);
    expect(st).toMatch(/^Groups:\t10 20 $/m);
    expect(st).toMatch(/^VmPeak:\t    8192 kB$/m);
    expect(st).toMatch(/^VmSize:\t    6144 kB$/m);
    expect(st).toMatch(/^VmHWM:\t    2048 kB$/m);
    expect(st).toMatch(/^VmRSS:\t    1024 kB$/m);
    const s = statFields((await read(init, "5/stat")).text);
    expect(s[22]).toBe(String(6 << 20)); // vsize in bytes
    expect(s[23]).toBe("256"); // rss in pages
    expect((await read(init, "5/statm")).text).toBe("1536 256 256 5 0 801 0\n");
    await sleeper.ok("execve", { exe: "/usr/bin/sleeper", argv: ["sleeper", "10"] });
    expect((await read(sleeper, "5/environ")).text).not.toBe("A=1\0B=two words\0");
    expect((await read(sleeper, "5/cwd")).target).toBe("/srv/data dir");
    expect((await read(init, "5/status")).text).toMatch(/^Gid:\t100\t101\t102\t101$/m);
  });

  it("refuses bad reports with an error naming the field", async () => {
    const cwd = await sleeper.call("report_cwd", { cwd: "relative/dir" });
    expect(cwd).toMatchObject({ ok: false, code: "EINVAL" });
    expect(cwd.detail).toMatch(/report_cwd\.cwd/);
    const g = await sleeper.call("report_gids", { rgid: 0, egid: 0, sgid: 0, fsgid: 0, groups: [1, -5] });
    expect(g).toMatchObject({ ok: false, code: "EINVAL" });
    expect(g.detail).toMatch(/report_gids\.groups\[1\]/);
    const e = await sleeper.call("report_environ", { environ: Buffer.alloc((1 << 20) - 4096 + 1) });
    expect(e).toMatchObject({ ok: false, code: "E2BIG" });
    expect((await init.call("proc_read", { path: "x".repeat(5000) })).code).toBe("ENAMETOOLONG");
  });
});

// ps's N: a positive nice, which the agents inherit from the runner (npm test under nice).
const N = os.getPriority() > 0 ? "N" : "";
const PS_WANT = [
  "  PID  PPID  PGID   SID STAT COMMAND         COMMAND",
  `    1     0     0     0 ${`S${N}`.padEnd(4)} init            /sbin/init`,
  `    2     1     0     0 ${`S${N}l`.padEnd(4)} my (server)     my (server) --port 80`,
  `    4     2     0     0 ${`Z${N}`.padEnd(4)} my (server)     [my (server)] <defunct>`,
  `    5     1     5     5 ${`S${N}s`.padEnd(4)} sleeper         sleeper 10`,
  "",
].join("\n");

// psmisc names a thread after its process unless -t (--thread-names) asks for its own name.
const PSTREE_ASCII = ["init(1)-+-my (server)(2)-+-my (server)(4)", "        |                `-{my (server)}(3)", "        `-sleeper(5)", ""].join("\n");
const PSTREE_THREADS = PSTREE_ASCII.replace("{my (server)}", "{wo rk(er)}");
const PSTREE_UTF8 = ["init(1)─┬─my (server)(2)─┬─my (server)(4)", "        │                └─{my (server)}(3)", "        └─sleeper(5)", ""].join("\n");

/**
 * Waits (at most 5 s) until the agents' host processes sleep: an agent still writing its
 * last reply runs, and /proc shows a process whose host thread runs as R, as Linux does.
 */
async function idle(agents: Agent[] = [init, server, sleeper]): Promise<void> {
  const running = (a: Agent): boolean => {
    try {
      return statFields(fs.readFileSync(`/proc/${a.proc.pid}/stat`, "utf8"))[2] === "R";
    } catch {
      return false;
    }
  };
  for (const until = Date.now() + 5000; Date.now() < until && agents.some(running); ) await new Promise((r) => setTimeout(r, 20));
}

describe("real procps and psmisc read the exported snapshot", () => {
  it.skipIf(!isRoot)("ps -eo pid,ppid,pgid,sid,stat,comm,args and pstree -p show the emulated tree exactly", async () => {
    const snap = path.join(tmp, "proc");
    await idle();
    const r = await cli(["procfs", "export", "--socket", ns.daemon.socket, snap]);
    expect(r.stderr).toMatch(/wrote \d+ entries/);
    expect(r.code).toBe(0);
    // A private mount namespace (the host's /proc is untouched) and a PID namespace in which
    // the reader is PID 1: procps looks up its own pid, and PID 1 is the emulated init.
    const inNs = (cmd: string, env: NodeJS.ProcessEnv = {}): string =>
      execFileSync("unshare", ["--mount", "--pid", "--fork", "sh", "-c", `mount --bind "$0" /proc && exec ${cmd}`, snap], {
        env: { ...process.env, LANG: "C", LC_ALL: "", ...env },
        encoding: "utf8",
      });
    // ps lists processes in directory order: real /proc's is by pid, a plain directory's is
    // the file system's own. Every line is exact; --sort=pid restores /proc's order.
    const lines = (t: string): string[] => t.trimEnd().split("\n");
    expect(lines(inNs("ps -eo pid,ppid,pgid,sid,stat,comm,args")).sort()).toEqual(lines(PS_WANT).sort());
    expect(inNs("ps -eo pid,ppid,pgid,sid,stat,comm,args --sort=pid")).toBe(PS_WANT);
    expect(inNs("pstree -p")).toBe(PSTREE_ASCII);
    expect(inNs("pstree -p -t")).toBe(PSTREE_THREADS);
    // -U: UTF-8 line drawing whatever the locale (C.UTF-8 need not be installed).
    expect(inNs("pstree -p -U")).toBe(PSTREE_UTF8);
    // The host's /proc is still the host's.
    expect(fs.existsSync(`/proc/${process.pid}/stat`)).toBe(true);
  });

  it("export refuses a directory that is not empty and paths that leave it", () => {
    const full = path.join(tmp, "full");
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, "x"), "");
    expect(() => writeSnapshot(full, [])).toThrow(/not empty/);
    const bad: [string, number, string | null][][] = [
      [["..", 2, null]],
      [["a/../../etc", 2, null]],
      [["1", 2, null], ["1/cwd", 1, "/etc"], ["1/cwd/passwd", 0, null]],
      [["/etc/x", 2, null]],
    ];
    for (const nodes of bad) {
      const dir = fs.mkdtempSync(path.join(tmp, "bad-"));
      expect(() => writeSnapshot(dir, nodes)).toThrow(ExportError);
    }
    expect(fs.existsSync("/etc/x")).toBe(false);
  });
});

describe("inspection commands", () => {
  const ctl = (args: string[], env: NodeJS.ProcessEnv = {}) => cli([...args, "--socket", ns.daemon.socket], env);

  it("blinkd ps prints what procps prints, and --json the records", async () => {
    await idle();
    const r = await ctl(["ps"]);
    expect(r.stdout).toBe(PS_WANT);
    const j = JSON.parse((await ctl(["ps", "--json"])).stdout) as { pid: number; stat: string; state: string; threads: number[] }[];
    expect(j.map((p) => [p.pid, p.stat, p.state])).toEqual([
      [1, `S${N}`, "running"],
      [2, `S${N}l`, "running"],
      [4, `Z${N}`, "zombie"],
      [5, `S${N}s`, "running"],
    ]);
    expect(j[1]!.threads).toEqual([2, 3]);
  });

  it("blinkd pstree draws what pstree -p draws, and --json the tree", async () => {
    expect((await ctl(["pstree"], { LANG: "C", LC_ALL: "" })).stdout).toBe(PSTREE_ASCII);
    expect((await ctl(["pstree", "-t"], { LANG: "C", LC_ALL: "" })).stdout).toBe(PSTREE_THREADS);
    expect((await ctl(["pstree"], { LANG: "C.UTF-8", LC_ALL: "" })).stdout).toBe(PSTREE_UTF8);
    expect((await ctl(["pstree", "-U"], { LANG: "C", LC_ALL: "" })).stdout).toBe(PSTREE_UTF8);
    expect((await ctl(["pstree", "-A"], { LANG: "C.UTF-8", LC_ALL: "" })).stdout).toBe(PSTREE_ASCII);
    expect((await ctl(["pstree", "2"], { LANG: "C", LC_ALL: "" })).stdout).toBe("my (server)(2)-+-my (server)(4)\n               `-{my (server)}(3)\n");
    const t = JSON.parse((await ctl(["pstree", "--json"])).stdout);
    expect(t).toMatchObject({ pid: 1, name: "init", children: [{ pid: 2, children: [{ pid: 4 }, { pid: 3, thread: true }] }, { pid: 5 }] });
    const none = await ctl(["pstree", "77"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no process 77/);
  });

  it("blinkd inspect shows a process's actors with a parked call; --all every actor; an unknown pid is an error", async () => {
    const w = init.send("wait4", { pid: -1, options: 0 });
    // The wait parks: wait until inspect sees it (a handshake, not a sleep).
    let human = "";
    for (let i = 0; i < 50 && !/parked calls: wait4/.test(human); i++) human = (await ctl(["inspect", "1"])).stdout;
    expect(human).toMatch(/^proc:1 \(process\): running$/m);
    expect(human).toMatch(/^thread:1 \(thread\): running$/m);
    expect(human).toMatch(/parked calls: wait4 \(seq \d+\)/);
    expect(human).toMatch(/^ {2}children: \[2,5\]$/m);
    init.abort(w.id);
    expect((await w.reply).code).toBe("EINTR");
    const j = JSON.parse((await ctl(["inspect", "2", "--json"])).stdout) as { id: string; kind: string; state: string; context: Record<string, unknown> }[];
    expect(j.map((a) => a.id)).toEqual(["proc:2", "thread:2", "thread:3"]);
    expect(j[0]!.context).toMatchObject({ comm: "my (server)", sigIgnored: "0x1000", sigCaught: "0x100000800", children: [4] });
    // The user-visible shape: one flat map, whatever grouping the machine uses inside.
    expect(Object.keys(j[0]!.context)).toEqual([
      "pid", "ppid", "pgid", "sid", "exe", "argv", "hostpid", "startTime", "delivery", "comm", "parentTid", "exitSignal", "children",
      "threads", "wstatus", "statusAssumed", "execed", "childSubreaper", "sigIgnored", "sigCaught", "saFlags", "creds", "pending",
      "stopped", "waitReport", "info",
    ]);
    expect(j[2]!.context).toMatchObject({ comm: "wo rk(er)" });
    const all = JSON.parse((await ctl(["inspect", "--all", "--json"])).stdout) as { id: string }[];
    expect(all.map((a) => a.id)).toEqual(["namespace", "proc:1", "thread:1", "proc:2", "thread:2", "thread:3", "proc:4", "proc:5", "thread:5"]);
    const bad = await ctl(["inspect", "42"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no process 42 in this namespace/);
    expect((await ctl(["inspect"])).code).toBe(2);
  });

  it("blinkd events --follow sees a fork and an exit as they happen; --pid filters", async () => {
    const follower = spawn(process.execPath, [BIN, "events", "--follow", "--json", "--socket", ns.daemon.socket], { stdio: ["ignore", "pipe", "pipe"] });
    const seen: { kind: string; actor: string; pid: number; event: string; from?: string; to?: string }[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: follower.stdout! }).on("line", (l) => {
      seen.push(JSON.parse(l));
      for (const w of waiters.splice(0)) w();
    });
    const until = (pred: (r: (typeof seen)[number]) => boolean) =>
      new Promise<(typeof seen)[number]>((resolve) => {
        const check = (): void => {
          const r = seen.find(pred);
          if (r) resolve(r);
          else waiters.push(check);
        };
        check();
      });
    // The ring's old records come first: once one arrives, the follower is attached.
    await until(() => true);
    const child = await track(init.fork());
    await until((r) => r.kind === "call" && r.event === "fork" && r.pid === 1);
    await until((r) => r.kind === "spawn" && r.actor === `proc:${child.pid}`);
    await until((r) => r.kind === "transition" && r.actor === `proc:${child.pid}` && r.event === "CLAIM" && r.to === "running");
    await child.exit(0);
    await until((r) => r.kind === "call" && r.event === "exit_group" && r.pid === child.pid);
    await until((r) => r.kind === "transition" && r.actor === `proc:${child.pid}` && r.event === "DIE" && r.to === "zombie");
    await init.ok("wait4", { pid: child.pid, options: 0 });
    await until((r) => r.kind === "transition" && r.actor === `proc:${child.pid}` && r.to === "reaped");
    const done = new Promise<number | null>((resolve) => follower.once("exit", resolve));
    follower.kill("SIGINT");
    expect(await done).toBe(0);

    const only = JSON.parse("[" + (await ctl(["events", "--json", "--pid", String(child.pid)])).stdout.trim().split("\n").join(",") + "]") as { pid: number }[];
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((r) => r.pid === child.pid)).toBe(true);
    const human = (await ctl(["events", "--pid", String(child.pid)])).stdout;
    expect(human).toMatch(new RegExp(`proc:${child.pid} +transition +DIE: running -> zombie`));
  });

  it("a guest cannot make control calls, and a control connection cannot act as a guest", async () => {
    expect(await sleeper.call("inspect", { pid: 0 })).toMatchObject({ ok: false, code: "EPERM" });
    expect(await sleeper.call("procfs_snapshot", {})).toMatchObject({ ok: false, code: "EPERM" });
  });

  // Five commands, each a Node.js start (a few seconds each at load 14): the independent ones run at once.
  it("says what to do when no daemon runs at the prefix or the socket is stale", async () => {
    const empty = fs.mkdtempSync(path.join(tmp, "prefix-"));
    // A socket whose daemon died without removing it.
    const staleDir = fs.mkdtempSync(path.join(tmp, "prefix-"));
    const sock = path.join(staleDir, "blinkd.sock");
    const leftBehind = new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, "SIGKILL"))`], { stdio: "ignore" });
      p.once("error", reject);
      p.once("exit", () => resolve());
    });
    const [r, gone] = await Promise.all([
      cli(["ps", "--prefix", empty], { BLINKD_SOCKET: "" }),
      cli(["inspect", "--all", "--prefix", path.join(tmp, "no-such-dir")], { BLINKD_SOCKET: "" }),
      leftBehind,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no blinkd daemon is running at .*start one with 'blinkd run -- CMD' or 'blinkd serve'/);
    expect(gone.stderr).toMatch(/the prefix does not exist/);
    expect(fs.statSync(sock).isSocket()).toBe(true);
    const [stale, direct] = await Promise.all([cli(["ps", "--prefix", staleDir], { BLINKD_SOCKET: "" }), cli(["events", "--socket", sock])]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/nothing listens on it \(a socket left by a daemon that is gone/);
    expect(direct.stderr).toMatch(/nothing listens on it/);
  }, 90_000);
});

describe("signal state in /proc", () => {
  it("a blocked pending signal shows in SigBlk and ShdPnd; a stopped process is T until SIGCONT", async () => {
    const c = await track(init.fork());
    await c.ok("rt_sigprocmask", { how: 0, set: 1n << 9n }); // SIG_BLOCK SIGUSR1
    await init.ok("kill", { pid: c.pid, sig: 10 });
    const st = (await read(init, `${c.pid}/status`)).text;
    expect(st).toMatch(/^SigBlk:\t0000000000000200$/m);
    // kill(2) queues on the process (signal->shared_pending), not on a thread.
    expect(st).toMatch(/^ShdPnd:\t0000000000000200$/m);
    expect(st).toMatch(/^SigPnd:\t0000000000000000$/m);
    const f = statFields((await read(init, `${c.pid}/stat`)).text);
    expect([f[30], f[31]]).toEqual(["0", "512"]); // signal (the task's own pending), blocked
    await init.ok("kill", { pid: c.pid, sig: 19 });
    expect(statFields((await read(init, `${c.pid}/stat`)).text)[2]).toBe("T");
    expect((await read(init, `${c.pid}/status`)).text).toMatch(/^State:\tT \(stopped\)$/m);
    expect((await cli(["ps", "--socket", ns.daemon.socket])).stdout).toMatch(new RegExp(`^ +${c.pid} +1 +0 +0 T${N} `, "m"));
    await init.ok("kill", { pid: c.pid, sig: 18 });
    await idle([c]); // continued, it runs a moment (R, as on Linux) before it sleeps again
    expect(statFields((await read(init, `${c.pid}/stat`)).text)[2]).toBe("S");
    await init.ok("kill", { pid: c.pid, sig: 9 });
    expect((await init.ok("wait4", { pid: c.pid, options: 0 })).out!.wstatus).toBe(9);
  });
});
