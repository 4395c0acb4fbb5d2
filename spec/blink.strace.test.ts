/**
 * Issue 19's demonstration (clients/blink/README.md, "strace in blink"): `strace -f sh -c 'echo
 * hi; /bin/true'` with strace and sh both in blink, tracing each other through blinkd, prints
 * what strace prints on Linux in a real PID namespace. Both run in the same empty directory.
 * The outputs are compared per process after normalising what differs between any two runs:
 * addresses, the environment's size (blinkd adds BLINKD_SOCKET), getrandom's bytes, a SIGCHLD's
 * si_utime and si_stime (the child's CPU time in ticks: 1 instead of 0 at load), strace's
 * interleaving of two processes (an `<unfinished ...>` call is joined to its `<... resumed>`
 * line, "Process N attached" dropped), and the pids (named by their order of appearance).
 * What remains must be exactly BLINK_DIFFERS: blink's own emulation, not ptrace.
 */
import { expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeBlink } from "./helpers/blink.js";
import { asInitArgv } from "./helpers/launch.js";
import { isRoot } from "./helpers/root.js";

const STRACE = ["/usr/bin/strace", "/bin/strace"].find((p) => fs.existsSync(p));
const COMMAND = ["-f", "sh", "-c", "echo hi; /bin/true"];

/**
 * The lines of each process that differ in blink for reasons of blink's own (`- ` Linux's,
 * `+ ` blink's, per process): ld.so's first anonymous mapping (blink hands it an
 * auxiliary vector whose static TLS fits in the later one) and its TLS block's size, rseq
 * (blink has none: ENOSYS), and dash's getcwd (blink's VFS gives `/tmp/…` and `.` different
 * inode numbers, so dash does not trust $PWD). A difference that goes away or changes fails
 * the test until this list is updated.
 */
const BLINK_DIFFERS = [
  "- sh: mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "- sh: mmap(NULL, 12288, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "+ sh: mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "- sh: rseq(0xX, 0xX, 0, 0xX) = 0",
  "+ sh: rseq(0xX, 0xX, 0, 0xX) = -1 ENOSYS (Function not implemented)",
  "+ sh: getcwd(DIR, 4096) = N",
  "- child 1: mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "- child 1: mmap(NULL, 12288, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "+ child 1: mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xX",
  "- child 1: rseq(0xX, 0xX, 0, 0xX) = 0",
  "+ child 1: rseq(0xX, 0xX, 0, 0xX) = -1 ENOSYS (Function not implemented)",
];

/** strace's output as one sequence of calls per process, labelled "sh", "child 1", … */
export function perProcess(out: string, dir: string): string[] {
  const seqs = new Map<string, string[]>();
  const pending = new Map<string, string>();
  const attached: string[] = [];
  const live = new Set<string>(["main"]);
  for (const raw of out.split("\n")) {
    // " <unfinished ...>" alone ends a line that "Process N attached" broke
    if (!raw.trim() || /^\s*<unfinished \.\.\.>$/.test(raw)) continue;
    // blinkd's own word on stderr (a stale socket it cleaned up) is not strace's
    if (raw.startsWith("blinkd: ")) continue;
    const m = /^\[pid\s+(\d+)\] (.*)$/.exec(raw);
    let rest = m ? m[2]! : raw;
    if (m && !live.has(m[1]!) && !attached.includes(m[1]!) && live.has("main")) {
      // the first process's pid, learnt from its first prefixed line
      live.delete("main");
      live.add(m[1]!);
      const s = seqs.get("main");
      if (s) seqs.set(m[1]!, s), seqs.delete("main");
      const p = pending.get("main");
      if (p !== undefined) pending.set(m[1]!, p), pending.delete("main");
    }
    // strace prefixes no line while it traces one process: that one's
    const pid = m ? m[1]! : live.size === 1 ? [...live][0]! : "main";
    const at = /(?:(?:\/\S*)?strace: )?Process (\d+) attached/.exec(rest);
    if (at) {
      attached.push(at[1]!);
      live.add(at[1]!);
      rest = rest.slice(0, at.index) + rest.slice(at.index + at[0].length);
      if (!rest.trim()) continue;
      pending.set(pid, rest);
      continue;
    }
    if (rest.endsWith(" <unfinished ...>")) {
      pending.set(pid, rest.slice(0, -" <unfinished ...>".length));
      continue;
    }
    const pend = pending.get(pid);
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed) rest = (pend ?? "") + resumed[1]!;
    else if (pend !== undefined) rest = pend + rest;
    pending.delete(pid);
    if (/^\+\+\+ (exited|killed)/.test(rest)) live.delete(pid);
    rest = rest
      .split(dir)
      .join("DIR")
      .replace(/"\/SystemRoot(DIR)"/g, "$1")
      .replace(/"DIR"/g, "DIR")
      .replace(/0x[0-9a-f]+/g, "0xX")
      .replace(/\/\* \d+ vars \*\//g, "/* N vars */")
      .replace(/getrandom\("[^"]*"/g, 'getrandom("…"')
      // A child's CPU time in its SIGCHLD's siginfo (clock ticks: 0, or 1 at load).
      .replace(/(si_[us]time)=\d+(?: \/\* [\d.]+ s \*\/)?/g, "$1=T")
      .replace(/^(getcwd\(DIR, \d+\)) = \d+$/, "$1 = N")
      .replace(/\s+=\s+/g, " = ");
    const s = seqs.get(pid) ?? [];
    s.push(rest);
    seqs.set(pid, s);
  }
  const label = (p: string): string => (attached.includes(p) ? `child ${attached.indexOf(p) + 1}` : "sh");
  const order = [...seqs.keys()].sort((a, b) => (attached.indexOf(a) ?? -1) - (attached.indexOf(b) ?? -1));
  return order.flatMap((p) => seqs.get(p)!.map((l) => `${label(p)}: ${l}`));
}

/** The lines of b not in a (`+ `) and of a not in b (`- `), by a longest common subsequence, in order. */
function difference(a: string[], b: string[]): string[] {
  const n = a.length, m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = a[i] === b[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) (i++, j++);
    else if (j < m && (i === n || L[i]![j + 1]! >= L[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}

/**
 * sh's last child (/bin/true) usually exits while sh waits in wait4: do_wait finds the zombie
 * first, wait4 returns its pid, and the SIGCHLD is taken on the way back to user mode
 * (rt_sigreturn gives that pid back). It may also exit before sh unblocks signals after its
 * fork: the SIGCHLD is then taken as the unblock returns 0, and wait4 reaps after. Which comes
 * first is the race between the two processes, on Linux as in blink (Linux's side took the
 * second order once under load); the second is written as the first, so that both sides
 * compare on what they print, not on which process the scheduler ran first.
 */
export function sigchldOrder(lines: string[]): string[] {
  const out = [...lines];
  for (let i = 0; i + 2 < out.length; i++) {
    const w = /^sh: wait4\(-1, \[.*\], 0, NULL\) = (\d+)$/.exec(out[i + 2]!);
    if (w && out[i]!.startsWith("sh: --- SIGCHLD ") && out[i + 1] === "sh: rt_sigreturn({mask=[]}) = 0") {
      out.splice(i, 3, out[i + 2]!, out[i]!, `sh: rt_sigreturn({mask=[]}) = ${w[1]}`);
      i += 2;
    }
  }
  return out;
}

function strace(where: "linux" | "blink", dir: string): { code: number | null; out: string } {
  const argv = asInitArgv(where, [STRACE!, ...COMMAND]);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env: { ...process.env, PWD: dir }, encoding: "utf8", timeout: 90_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describeBlink("the strace demonstration in blink (issue 19)", () => {
  const why = !STRACE ? "no strace on this machine" : !isRoot ? "needs root for Linux's side (unshare --pid)" : "";
  it.skipIf(!!why)(`strace -f sh -c 'echo hi; /bin/true' prints Linux's lines, but for blink's own differences${why ? ` [skipped: ${why}]` : ""}`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-strace-"));
    try {
      const linux = strace("linux", dir);
      const blink = strace("blink", dir);
      expect(linux.code).toBe(0);
      expect(blink.code).toBe(0);
      const a = sigchldOrder(perProcess(linux.out, dir));
      const b = sigchldOrder(perProcess(blink.out, dir));
      // sh's tail, wrong before blink delivered a signal on the way back to user mode: the wait4
      // its SIGCHLD interrupts returns, then the signal-delivery stop, then the handler's return
      const tail = (l: string[]) => l.filter((x) => x.startsWith("sh: ")).slice(-6);
      expect(tail(b)).toEqual(tail(a));
      expect(tail(b)[1]).toMatch(/^sh: --- SIGCHLD /);
      // (sorted: where a difference falls among equal neighbours is the diff's choice)
      expect(difference(a, b).sort()).toEqual([...BLINK_DIFFERS].sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);
});

/**
 * Issue 18z: once in a full `npm test` at load ~12, sh's blocking wait4 for its traced child
 * returned EINTR in blink (strace showed the SIGCHLD, `rt_sigreturn(...) = -1 EINTR`, then a
 * second wait4). On Linux a blocking wait4 never ends with EINTR for the SIGCHLD of the child it
 * returns: exit_notify makes the child a zombie before it sends SIGCHLD and wakes the wait, and
 * do_wait scans the children before it checks signal_pending (kernel/exit.c). In blink the host
 * SIGCHLD of the child's host process ended the wait while blinkd still held the exit for the
 * tracer (strace reaps a traced child first), and the SIGCHLD blinkd queued after its reap was
 * taken on the way out, or the wait ended for the ptrace bell of the signal-delivery stop that
 * SIGCHLD brought (patch 0026: the wait goes on, or looks again). The window is small: two busy
 * loops at nice 19 widen it for the test's length (before the fix, 200 waits: EINTR in 2 of 3 runs
 * at load ~3; 100 waits: 1–6 in 2 of 2 at load ~7).
 */
const LOOP = ["-f", "sh", "-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"];

function eintrs(where: "linux" | "blink", dir: string): { code: number | null; waits: number; eintr: string[] } {
  const file = path.join(dir, `${where}.strace`);
  const argv = asInitArgv(where, [STRACE!, "-o", file, ...LOOP]);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: "utf8", timeout: 150_000 });
  const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : [];
  return {
    code: r.status,
    waits: lines.filter((l) => /wait4[( ].*\) = [1-9]\d*$/.test(l)).length,
    eintr: lines.filter((l) => / = -1 EINTR /.test(l)),
  };
}

describeBlink("a blocking wait4 under strace in blink (issue 18z)", () => {
  const why = !STRACE ? "no strace on this machine" : !isRoot ? "needs root for Linux's side (unshare --pid)" : "";
  it.skipIf(!!why)(`sh's 200 blocking wait4s for its traced children return each child, none EINTR, under CPU load, as on Linux${why ? ` [skipped: ${why}]` : ""}`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-strace-eintr-"));
    // bounded: each busy loop ends by itself after 3 minutes if this process dies first
    const load = [1, 2].map(() => spawn("nice", ["-n", "19", "timeout", "180", "sh", "-c", "while :; do :; done"], { stdio: "ignore" }));
    try {
      const linux = eintrs("linux", dir);
      const blink = eintrs("blink", dir);
      expect(linux.code).toBe(0);
      expect(blink.code).toBe(0);
      expect(linux).toEqual({ code: 0, waits: 200, eintr: [] });
      expect(blink).toEqual({ code: 0, waits: 200, eintr: [] });
    } finally {
      // timeout passes SIGTERM on to its loop
      for (const p of load) p.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);
});
