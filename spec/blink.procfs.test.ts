/**
 * /proc inside blink is the namespace's (clients/blink/patches: blink/daemonproc.c): the
 * same process tree run in blink under `blinkd run` and on Linux under `unshare --pid --fork
 * --mount-proc`, and what procps and psmisc run inside it show, compared line for line.
 *
 * The tree, built by a shell script as PID 1 with only shell builtins between its steps (so
 * that every pid is the same on both sides; a step waits for the last one through a FIFO or
 * by reading /proc until the state it wants shows):
 *
 *   1 sh TREE DIR      the script
 *   2 mkfifo           gone (reaped)
 *   3 sleep            a background job
 *   4 sleep  5 sleep   setsid: a session and a process group of their own
 *   6 sleep  7 sleep   setpgid (perl): a process group of their own in PID 1's session
 *   8 sleep  9 sh      9 (a subshell) exits once 8 has exec'd sleep, and is never reaped:
 *                      a zombie
 *  10 sleep            stopped (SIGSTOP)
 *  11 sh               busy in a loop of builtins: running
 *
 * Nothing is normalized in the comparison of ps and pstree: both sides run /bin/sh with the
 * same argv, without a controlling terminal (setsid), and blinkd's pid_max is the one Linux
 * gives a new PID namespace here.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BIN, cli, tempPrefix } from "./helpers/daemon.js";
import { BLINK, describeBlink, inBlink } from "./helpers/blink.js";

const isRoot = process.getuid?.() === 0;
/**
 * pid_max as Linux gives it to a new PID namespace on this machine (Linux 6.14 made it per
 * namespace; procps sizes its PID columns from it): blinkd's namespace is given the same.
 */
const NS_PID_MAX = isRoot ? spawnSync("unshare", ["--pid", "--fork", "cat", "/proc/sys/kernel/pid_max"], { encoding: "utf8" }).stdout.trim() : "";

const TREE = `d=$1
mkfifo "$d/ready" "$d/go" "$d/die"
state() { # PID LETTER [COMM]: until /proc/PID/stat shows that state (builtins only)
  while :; do read -r s < "/proc/$1/stat"; case $s in *"($3"*") $2 "*) return;; esac; done
}
ready() { # until a step says it is done: a line that is not empty (a read may open the
  # FIFO while the last step's writer still holds it, and find only its end)
  while :; do read -r x < "$d/ready" && [ -n "$x" ] && return; done
}
sleep 1000 &
setsid sh -c "sleep 1000 & echo \\$! > $d/ready; exec sleep 1000" &
ready
state "$x" S sleep # the background sleep is asleep (not still starting, R) before ps looks
perl -e 'setpgrp(0, 0); exec @ARGV' sh -c "sleep 1000 & echo \\$! > $d/ready; exec sleep 1000" &
ready
state "$x" S sleep
sh -c "(read -r y < $d/die) & echo \\$! > $d/ready; exec sleep 1000" &
ready
state $! S sleep
echo > "$d/die"
state "$x" Z
sleep 1000 &
state $! S sleep
kill -STOP $!
state $! T
while :; do :; done &
state $! R
ps -eo pid,ppid,pgid,sid,stat,comm,args
echo ---
pstree -p
echo waiting
read -r x < "$d/go"
`;

/**
 * The command line that runs argv on Linux as PID 1 of a new PID namespace with its own /proc,
 * without a controlling terminal, and with no descriptor above 2 (bash closes the ones the
 * test runner's parent left open: a guest of blink starts with a table of its own too).
 */
function linuxArgv(argv: string[]): string[] {
  const close = `for f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"`;
  return ["bash", "-c", close, "bash", "setsid", "-w", "unshare", "--pid", "--fork", "--mount-proc", "--kill-child", ...argv];
}

/** A running tree: its output so far, and a wait for a line of it. */
class Run {
  out = "";
  err = "";
  readonly exited: Promise<number | null>;
  constructor(readonly proc: ChildProcess) {
    proc.stdout!.on("data", (d: Buffer) => (this.out += d));
    proc.stderr!.on("data", (d: Buffer) => (this.err += d));
    this.exited = new Promise((res) => proc.once("exit", (code) => res(code)));
  }
  async until(line: string, ms: number, who: string): Promise<void> {
    const end = Date.now() + ms;
    while (!this.out.includes(line + "\n")) {
      if (Date.now() > end || this.proc.exitCode !== null) {
        // where it stands: the host's view of the processes under it
        const forest = spawnSync("ps", ["-e", "--forest", "-o", "pid,ppid,stat,args"], { encoding: "utf8" }).stdout;
        const mine = forest.split("\n").filter((l) => l.includes(path.basename(tmp)) || l.includes("sleep 1000"));
        throw new Error(`${who}: no "${line}" line within ${ms} ms; stdout:\n${this.out}\nstderr:\n${this.err}\nprocesses:\n${mine.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async end(ms: number): Promise<number | null> {
    const t = setTimeout(() => this.proc.kill("SIGKILL"), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-blink-procfs-"));
const kids: ChildProcess[] = [];

function start(argv: string[]): Run {
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  kids.push(p);
  return new Run(p);
}

/**
 * Both sides run at nice 0 whatever the runner's niceness (npm test under `nice -n 5`), so
 * the lines written here need no N in STAT (both would show it: blinkd takes a guest's nice
 * from its host process, the blink running it).
 */
const niceZero = (argv: string[]): string[] => (os.getPriority() ? ["nice", "-n", String(-os.getPriority()), ...argv] : argv);

/** Runs TREE on one side until it waits, lets `during` look at it, then lets it end. */
async function tree(side: "linux" | "blink", during: (prefix: string) => Promise<void> = async () => {}): Promise<string> {
  // the same paths on both sides: they are in the command lines ps shows
  const dir = path.join(tmp, "tree");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const script = path.join(dir, "tree.sh");
  fs.writeFileSync(script, TREE);
  const argv = ["/bin/sh", script, dir];
  const prefix = tempPrefix();
  const run = start(niceZero(side === "linux" ? linuxArgv(argv) : [process.execPath, BIN, ...inBlink(["--prefix", prefix, "--pid-max", NS_PID_MAX]), ...argv]));
  await run.until("waiting", side === "linux" ? 60_000 : 120_000, `the tree in ${side}`);
  await during(prefix);
  fs.writeFileSync(path.join(dir, "go"), "\n");
  expect(await run.end(30_000), `the tree in ${side} did not end: ${run.err}`).toBe(0);
  return run.out.slice(0, run.out.indexOf("waiting\n"));
}

/**
 * Ends what a failed run left: the commands started here, then any host process whose
 * command line names this file's directory (every guest of blink keeps blink's argv, the
 * script's path in it; a guest whose daemon died ends only at its next call to it).
 */
afterAll(() => {
  for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill("SIGKILL");
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmd.includes(tmp) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* gone already */
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs argv to its end on one side as PID 1 of a new namespace; its stdout. */
async function once(side: "linux" | "blink", argv: string[]): Promise<string> {
  const run = start(niceZero(side === "linux" ? linuxArgv(argv) : [process.execPath, BIN, ...inBlink(["--prefix", tempPrefix(), "--pid-max", NS_PID_MAX]), ...argv]));
  expect(await run.end(60_000), `${side}: ${argv.join(" ")} did not end well: ${run.err}`).toBe(0);
  return run.out;
}

/** The fields of a stat line, split as procps does (the comm ends at the last ')'). */
function statFields(s: string): string[] {
  const open = s.indexOf("(");
  const close = s.lastIndexOf(")");
  return [s.slice(0, open - 1), s.slice(open, close + 1), ...s.slice(close + 2).trimEnd().split(" ")];
}

const statusOf = (text: string): Map<string, string> => new Map(text.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
const kB = (v: string | undefined): number => Number(/^(\d+) kB$/.exec(v ?? "")?.[1] ?? NaN);

describeBlink("/proc inside blink is the namespace's: a process tree", () => {
  let linux = "";
  let blink = "";
  let outside = "";
  let outsideJson: { pid: number; argv: string[]; hostpid: number; stat: string }[] = [];
  let hostArgv: string[] = [];
  const snapshot = new Map<number, Map<string, string>>();

  beforeAll(async () => {
    if (!isRoot) return;
    linux = await tree("linux");
    blink = await tree("blink", async (prefix) => {
      // from outside, while PID 1 waits in its read of the FIFO
      outside = (await cli(["ps", "--prefix", prefix])).stdout;
      outsideJson = JSON.parse((await cli(["ps", "--json", "--prefix", prefix])).stdout) as typeof outsideJson;
      const dir = path.join(tmp, "export");
      expect((await cli(["procfs", "export", "--prefix", prefix, dir])).code).toBe(0);
      for (const pid of [1, 3]) snapshot.set(pid, statusOf(fs.readFileSync(path.join(dir, String(pid), "status"), "utf8")));
      for (const p of outsideJson.filter((x) => x.pid === 1 || x.pid === 3)) {
        snapshot.set(-p.pid, statusOf(fs.readFileSync(`/proc/${p.hostpid}/status`, "utf8")));
        if (p.pid === 3) hostArgv = fs.readFileSync(`/proc/${p.hostpid}/cmdline`, "utf8").split("\0").slice(0, -1);
      }
    });
  }, 240_000);

  it.skipIf(!isRoot)("ps -eo pid,ppid,pgid,sid,stat,comm,args and pstree -p run inside show what they show in Linux's PID namespace", () => {
    expect(linux).toContain("[sh] <defunct>"); // the oracle built the tree it should
    expect(blink).toBe(linux);
  });

  it.skipIf(!isRoot)("blinkd ps from outside shows the blink guests with the emulated programs' command lines, as ps shows them in Linux's", () => {
    // Linux's inside view without the rows of ps and pstree themselves (gone by then)
    const want = linux.split("---\n")[0]!.split("\n").filter((l) => !/ ps -eo /.test(l)).join("\n");
    expect(outside).toBe(want);
    // the argv is the guest program's; the host's is blink's, with the program after it
    expect(outsideJson.find((p) => p.pid === 3)!.argv).toEqual(["sleep", "1000"]);
    expect(hostArgv[0]).toBe(BLINK); // the host's ps sees blink running the script it started with
    expect(hostArgv).not.toContain("1000");
  });

  it.skipIf(!isRoot)("a blink guest's memory figures are the guest's, which blink reports, not its host process's", () => {
    for (const pid of [1, 3]) {
      const guest = snapshot.get(pid)!;
      const host = snapshot.get(-pid)!;
      // the host process holds the guest's memory and the emulator's (its code, the JIT's pages)
      expect(kB(guest.get("VmSize")), `pid ${pid}: VmSize`).toBeLessThan(kB(host.get("VmSize")));
      expect(kB(guest.get("VmRSS")), `pid ${pid}: VmRSS`).toBeLessThan(kB(host.get("VmRSS")));
      expect(kB(guest.get("VmRSS"))).toBeGreaterThan(0);
      expect(guest.get("FDSize")).toBe("64");
    }
  });

});

describeBlink("/proc inside blink is the namespace's: a guest's own files", () => {
  it.skipIf(!isRoot)("/proc/self/status and stat of a blink guest agree with Linux's but for what an emulated process cannot share", async () => {
    const argv = ["/bin/sh", "-c", "cat /proc/self/status; echo ---; cat /proc/self/stat"];
    const [linuxStatus, linuxStat] = (await once("linux", argv)).split("---\n") as [string, string];
    const [blinkStatus, blinkStat] = (await once("blink", argv)).split("---\n") as [string, string];
    // Differ by necessity: the memory layout of an emulated program (blink maps it and its
    // 8 MiB stack itself; the figures are blink's report of the guest's), and the scheduler's
    // context switch counts.
    const differ = /^(VmPeak|VmSize|VmHWM|VmRSS|RssAnon|RssFile|VmData|VmStk|VmExe|VmLib|VmPTE|voluntary_ctxt_switches|nonvoluntary_ctxt_switches)$/;
    // SigQ's count is the user's signals queued anywhere on the machine (user->sigpending),
    // not the process's: only its limit (RLIMIT_SIGPENDING) can agree.
    const keep = (text: string): string[] =>
      text
        .trimEnd()
        .split("\n")
        .filter((l) => !differ.test(l.slice(0, l.indexOf(":"))))
        .map((l) => l.replace(/^SigQ:\t\d+\//, "SigQ:\t·/"));
    expect(keep(linuxStatus)).toContain("State:\tR (running)");
    expect(keep(blinkStatus)).toEqual(keep(linuxStatus));
    // stat: the same, but for the fault counts and CPU times (10-17: the guest's are not the
    // host's, and blinkd has none), the start time (22), the memory figures (23-24), the
    // addresses of the memory image (26-30, 45-51: blink does not report them), the CPU last
    // run on (39) and the block I/O delay (42), numbered as in proc(5).
    const blank = new Set([10, 11, 12, 13, 14, 15, 16, 17, 22, 23, 24, 26, 27, 28, 29, 30, 39, 42, 45, 46, 47, 48, 49, 50, 51]);
    const comparable = (line: string): string[] => statFields(line).map((f, i) => (blank.has(i + 1) ? "·" : f));
    expect(statFields(linuxStat)).toHaveLength(52);
    expect(comparable(blinkStat)).toEqual(comparable(linuxStat));
  }, 120_000);
});
