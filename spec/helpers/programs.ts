/**
 * An unmodified program (a shell, an init system) as PID 1 in a real PID namespace, under
 * `blinkd run` (the preload) or in blink: its output (stdout and stderr) and
 * exit status, for tests that expect the same from each. With `signal`, it is sent from
 * outside once the output says "ready": to `blinkd run` (which forwards it to PID 1) or to
 * the real init.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initOf } from "./asinit.js";
import { buildNative } from "./native.js";
import { ROOT } from "./daemon.js";
import { type Where, asInitArgv } from "./launch.js";
import { linuxUnavailable } from "../../src/script/sides/index.js";

/** What a program printed on stdout and on stderr (two pipes: their interleaving is the reader's race), and its status. */
export interface Ran {
  readonly out: string;
  readonly err: string;
  readonly code: number | null;
}

/** `signal`: sent from outside once stdout says "ready"; `env`: added to the run's environment. */
export interface RunOptions {
  readonly signal?: NodeJS.Signals;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs cmd as PID 1. With `signal`, waits for "ready" on stdout, then sends it to the
 * namespace's init from outside: to `blinkd run` (which forwards it to PID 1's host
 * process), or to the process unshare forked (the real init).
 */
export function runProgram(where: Where, cmd: string[], opts: RunOptions = {}): Promise<Ran> {
  const [exe, ...args] = asInitArgv(where, cmd);
  return new Promise((resolve, reject) => {
    const p = spawn(exe!, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ? { ...process.env, ...opts.env } : process.env });
    let out = "";
    let err = "";
    let sent = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (opts.signal && !sent && out.includes("ready")) {
        sent = true;
        if (where === "linux") process.kill(initOf(p.pid!), opts.signal);
        else p.kill(opts.signal);
      }
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), 30000);
    p.once("error", reject);
    p.once("close", (code) => {
      clearTimeout(t);
      resolve({ out, err, code });
    });
  });
}

/** Why the Linux side cannot run here (not root), said once; undefined when it can. */
export const noLinux = linuxUnavailable();
if (noLinux) console.warn(`SKIPPED the Linux side of the programs (${noLinux}): their output is checked against what Linux prints, written in the tests`);

/** The same program on Linux and at `where` (blinkd's preload by default); blinkd alone when Linux cannot run here. */
export async function both(cmd: string[], opts: RunOptions = {}, where: Where = "blinkd"): Promise<{ blinkd: Ran; linux: Ran | undefined }> {
  const linux = noLinux ? undefined : await runProgram("linux", cmd, opts);
  const blinkd = await runProgram(where, cmd, opts);
  return { blinkd, linux };
}

/**
 * spec/native/NAME.c run with args at `where` and on Linux: it prints `out`, nothing on
 * stderr, exits 0, and the same as on Linux where Linux ran.
 */
export async function nativeAsLinux(name: string, args: string[], out: string, where: Where = "blinkd"): Promise<void> {
  const r = await both([buildNative(name), ...args], {}, where);
  expect(r.blinkd.out).toBe(out);
  expect(r.blinkd.err).toBe("");
  expect(r.blinkd.code).toBe(0);
  if (r.linux) expect(r.blinkd).toEqual(r.linux);
}

/** The run at `where` is Linux's, where Linux ran. */
function sameAsLinux(r: { blinkd: Ran; linux: Ran | undefined }): void {
  if (r.linux) expect(r.blinkd).toEqual(r.linux);
}


// A grandchild orphaned while it runs: the middle shell prints its pid and exits; the
// child then waits until kill -0 fails, which happens only once init has reaped it.
const ORPHAN = 'c=$(sh -c "sleep 0.2 >/dev/null & echo \\$!"); echo orphan=$c; while kill -0 $c 2>/dev/null; do sleep 0.05; done; echo reaped; exit 3';
// A child that handles SIGTERM, blocked in the wait builtin for a background sleep. dash's
// wait blocks in sigsuspend with every signal blocked until then, so a SIGTERM that lands
// between "ready" and the wait is taken, not lost; its read builtin (the test's first form,
// `read x`) has a window between its trap check and read(2) where the handler runs and read
// blocks anyway, on Linux too, which an emulated or loaded shell widens to milliseconds (a
// CI hang). The blocking read's own gap is spec/native/waitterm.c's `read` mode.
const HANDLES = 'trap "echo got TERM; exit 42" TERM; sleep 100 </dev/null >/dev/null 2>&1 & echo ready; wait';
// A child that takes SIGTERM's default action.
const DEFAULT = "echo ready; exec sleep 100";
// A child that sends SIGTERM to init from inside the namespace: init blocks it and takes it
// with sigtimedwait (tini) or sigwait (dumb-init), then forwards it back.
const INSIDE = 'trap "echo got TERM; exit 42" TERM; kill -TERM 1; sleep 1 & wait; echo "not forwarded"';

/**
 * The scenarios, run at `where` and under a real PID namespace: tini and dumb-init as PID 1
 * reap an orphaned grandchild and forward a signal to their child (from outside, and one
 * their child sent them, which they block and take with sigtimedwait or sigwait); dash and
 * busybox sh run job-control scripts; a shell as init survives its own kill.
 */
export function programSuites(where: Where): void {
  describe.each([
    ["tini", ["tini", "-w", "--"]],
    ["dumb-init", ["dumb-init"]],
  ])("%s as PID 1", (_name, init) => {
    it("runs its child as PID 2 without complaining that it is not PID 1, and exits with the child's status", async () => {
      const r = await both([...init, "sh", "-c", 'echo "child pid=$$ ppid=$PPID"; exit 7'], {}, where);
      expect(r.blinkd.out).toBe("child pid=2 ppid=1\n");
      sameAsLinux(r);
      expect(r.blinkd.code).toBe(7);
    });

    it("reaps an orphaned grandchild", async () => {
      const r = await both([...init, "sh", "-c", ORPHAN], {}, where);
      expect(r.blinkd.out).toContain("reaped");
      sameAsLinux(r);
      expect(r.blinkd.code).toBe(3);
    });

    it("forwards SIGTERM to a child that handles it, and exits with the child's status", async () => {
      const r = await both([...init, "sh", "-c", HANDLES], { signal: "SIGTERM" }, where);
      expect(r.blinkd.out).toBe("ready\ngot TERM\n");
      sameAsLinux(r);
      expect(r.blinkd.code).toBe(42);
    });

    it("takes a SIGTERM sent to it from inside the namespace while it blocks it, and forwards it to its child", async () => {
      const r = await both([...init, "sh", "-c", INSIDE], {}, where);
      expect(r.blinkd.out).toBe("got TERM\n");
      sameAsLinux(r);
      expect(r.blinkd.code).toBe(42);
    });

    it("forwards SIGTERM to a child that dies of it, and exits 128+15", async () => {
      const r = await both([...init, "sh", "-c", DEFAULT], { signal: "SIGTERM" }, where);
      sameAsLinux(r);
      expect(r.blinkd.code).toBe(143);
    });
  });

  describe.each([
    ["dash", ["dash"]],
    ["busybox sh", ["busybox", "sh"]],
  ])("%s as PID 1", (_name, shell) => {
    it("prints the same for $$, $PPID, background jobs, wait, kill and process groups as in a real PID namespace", async () => {
      const dir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-jobs-"));
      const script = path.join(ROOT, "spec/native/jobs.sh");
      const linux = noLinux ? undefined : await runProgram("linux", [...shell, script, dir()]);
      const blinkd = await runProgram(where, [...shell, script, dir()]);
      expect(blinkd.out).toContain("me=1 parent=0\nchild me=2 parent=1\n");
      sameAsLinux({ blinkd, linux });
      expect(blinkd.code).toBe(5);
    });
  });

  describe("init's protection", () => {
    it("a shell as PID 1 survives its own kill -KILL and kill -TERM, as init does on Linux", async () => {
      const r = await both(["sh", "-c", 'kill -KILL $$; kill -TERM $$; echo "still here"; exit 4'], {}, where);
      expect(r.blinkd).toEqual({ out: "still here\n", err: "", code: 4 });
      sameAsLinux(r);
    });
  });
}

/** ../shared/conformance beside the checkout (the project's shared notes and programs). */
export const CONFORMANCE = path.resolve(ROOT, "../shared/conformance/run.sh");

/**
 * The shared conformance programs (../shared/conformance/run.sh builds each, runs it under a
 * real PID namespace and as BLINKD_RUN says, and diffs the traces), with `where` as BLINKD_RUN.
 */
export function conformance(where: Where): void {
  const why = fs.existsSync(CONFORMANCE) ? noLinux : `no ${CONFORMANCE}`;
  if (why) process.stderr.write(`conformance suite skipped: ${why}\n`);
  it.skipIf(!!why)(`trace the same at ${where} as under unshare${why ? ` [skipped: ${why}]` : ""}`, async () => {
    const run = asInitArgv(where, []).join(" "); // run.sh splits $BLINKD_RUN on spaces, unquoted
    const r = await new Promise<{ out: string; code: number | null }>((resolve) => {
      const p = spawn("bash", [CONFORMANCE], { cwd: ROOT, env: { ...process.env, BLINKD_RUN: run }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d));
      p.stderr.on("data", (d: Buffer) => (out += d));
      p.once("close", (code) => resolve({ out, code }));
    });
    expect(r.out).toMatch(/\d+ passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 120_000);
}
