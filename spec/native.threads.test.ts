/**
 * Threads of a native program under the preload: spec/native/threads.c runs as PID 1 under
 * `blinkd run` and under a real PID namespace (`unshare --pid --fork --mount-proc`, as
 * root), and both must print the same lines and exit with the same status. pthread_create
 * registers each thread (thread_create, then the thread's own connection claims its tid), so
 * thread ids come from the pids' number space and a child forked after two threads is pid 4
 * (it was 2 before); a thread forks a child whose parent is PID 1; a thread takes with
 * sigwaitinfo, on its own connection, a signal every thread blocks; a signal a child sends
 * to one thread with tgkill runs the handler in that thread (the doorbell the host gives
 * another thread is passed on), and so does pthread_kill, with si_pid 1 and SI_TKILL; raise
 * in a thread runs the handler before it returns; /proc/1/status's Threads and /proc/1/task (under blinkd
 * the daemon's procfs, `blinkd procfs export`) show the threads, and only the main thread
 * once they were joined (their exit reached the daemon); and when a thread execs while
 * another lives, the new image is PID 1 alone (the threads' connections outlive the exec
 * until the new image has reported it, instead of their close killing the process); and
 * when the new image's main thread calls pthread_exit, it still counts (Linux keeps the
 * zombie leader) and the process exits 0 when its last thread returns.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildNative } from "./helpers/native.js";
import { type Ran, type Where, isRoot, procOf, runAsInit } from "./helpers/asinit.js";

const build = (): string => buildNative("threads", ["-pthread"]);

const numeric = (a: string, b: string): number => Number(a) - Number(b);

/** PID 1's thread count and task ids as its namespace's /proc gives them. */
async function tasks(where: Where, launcher: number, prefix: string): Promise<string[]> {
  const { root, init } = await procOf(where, launcher, prefix);
  const status = fs.readFileSync(path.join(root, String(init), "status"), "utf8");
  const taskDir = path.join(root, String(init), "task");
  // On Linux a task's id in the namespace is NSpid's last; the daemon's tree is named by them.
  const ids =
    where === "linux" ? fs.readdirSync(taskDir).map((t) => /^NSpid:.*\s(\d+)$/m.exec(fs.readFileSync(path.join(taskDir, t, "status"), "utf8"))![1]!) : fs.readdirSync(taskDir);
  return [...status.split("\n").filter((l) => l.startsWith("Threads:")), `task: ${ids.sort(numeric).join(" ")}`];
}

/** Runs the program as PID 1; at each "inspect" reads /proc from outside, then lets it go on. */
const run = (where: Where, exe: string): Promise<Ran> => runAsInit(where, exe, { inspect: tasks, resume: "line" });

describe.skipIf(!isRoot)("threads of a native program under the preload", () => {
  it("gives threads tids from the pids' number space, their own signals and /proc entries, as in a real PID namespace", async () => {
    const exe = build();
    const linux = await run("linux", exe);
    const blinkd = await run("blinkd", exe);
    expect({ ...blinkd, lines: blinkd.lines }).toEqual({ code: 0, lines: [
      "main: pid 1, tid 1",
      "threads: tids 2 3, getpid 1 1",
      "child forked after the threads: 4",
      "child 4: waitpid = 4, exited 0",
      "child of thread 2: pid 5, ppid 1, tid 5",
      "thread 2: waitpid = 5 (forked 5), exited 6",
      "thread 2: raise: the handler ran in thread 2 before it returned, si_pid=1 si_code=-6",
      "thread 3: sigwaitinfo = 12, si_pid=6 si_code=0",
      "SIGUSR2 sender 6: waitpid = 6, exited 0",
      "SIGUSR1 sender 7: waitpid = 7, exited 0",
      "SIGUSR1 for thread 3 ran in thread 3, si_pid=7",
      "pthread_kill: SIGUSR1 for thread 3 ran in thread 3, si_pid=1 si_code=-6",
      "inspect",
      "Threads:\t3",
      "task: 1 2 3",
      "joined",
      "inspect",
      "Threads:\t1",
      "task: 1",
      "child after the join 8: waitpid = 8, exited 0",
      "thread 10: exec",
      "after the exec: pid 1, tid 1",
      "inspect",
      "Threads:\t1",
      "task: 1",
      "thread 11: the main thread has left",
      "inspect",
      "Threads:\t2",
      "task: 1 11",
    ] });
    expect(blinkd).toEqual(linux);
  }, 60_000);
});
