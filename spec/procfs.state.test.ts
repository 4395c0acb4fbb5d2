/**
 * What /proc says of a task's state and of the figures the daemon takes from a guest's host
 * process, against what Linux says of the same situation on this machine:
 *
 * - the task reading /proc is running (R) in what it reads, as on Linux (get_task_state of
 *   the current task); the others sleep while their host threads do;
 * - a guest busy in user code (no call to the daemon) is R, as its host thread is;
 * - a guest that reports its own memory runs in an emulator (blink), whose host process's
 *   descriptor table is the emulator's: FDSize is the guest's own table's.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, cli, tempPrefix } from "./helpers/daemon.js";
import { namespace } from "./helpers/namespace.js";
import type { Agent } from "./helpers/agent.js";

const ns = namespace();

async function text(a: Agent, p: string): Promise<string> {
  const r = await a.ok("proc_read", { path: p });
  return Buffer.from(r.out!.data as Uint8Array).toString("utf8");
}

/** The state letter of a stat line (the field after the last ')'). */
const stateOf = (stat: string): string => stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);

/** The state a stat shows once it stops being R, read every 100 ms for at most 5 s. */
async function settled(read: () => Promise<string>): Promise<string> {
  let st = "";
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    if ((st = stateOf(await read())) !== "R") break;
  }
  return st;
}

/**
 * Runs a shell command natively on this machine: the oracle. Descriptors above 2 that the
 * test runner's own parent left open are closed first (bash can name them all), so that the
 * command starts with a table of its own, as a guest does.
 */
const linux = (script: string): string =>
  spawnSync("bash", ["-c", `for f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec sh -c "$0"`, script], { encoding: "utf8", timeout: 20_000 }).stdout;

describe("a task's state", () => {
  it("the task reading /proc is R in its own stat and status, and another task reading it sees S, as on Linux", async () => {
    // Linux: the reader is running; a sleeping child read by its parent is S.
    expect(linux(`cut -d' ' -f3 /proc/self/stat; grep '^State' /proc/self/status; sleep 5 & sleep 0.3; cut -d' ' -f3 /proc/$!/stat; kill $!`)).toBe("R\nState:\tR (running)\nS\n");
    const child = await ns.track(ns.init.fork());
    expect(stateOf(await text(child, "self/stat"))).toBe("R");
    expect(await text(child, "self/status")).toMatch(/^State:\tR \(running\)$/m);
    expect(stateOf(await text(child, `${child.pid}/task/${child.tid}/stat`))).toBe("R");
    // the same file read by another task: the child is not running then, once its host
    // process has settled into waiting for its next command (Linux's child above slept 0.3 s)
    expect(await settled(() => text(ns.init, `${child.pid}/stat`))).toBe("S");
    expect(await settled(() => text(child, "1/stat"))).toBe("S");
    await child.exit(0);
    await ns.init.ok("wait4", { pid: child.pid, options: 0 });
  });

  it("a guest busy in user code is R in blinkd ps and in /proc, as on Linux (its host thread runs)", async () => {
    expect(linux(`while :; do :; done & sleep 0.3; cut -d' ' -f3 /proc/$!/stat; kill $!`)).toBe("R\n");
    const prefix = tempPrefix();
    // a native guest (through the preload library): its loop makes no call to the daemon
    const run = spawn(process.execPath, [BIN, "run", "--prefix", prefix, "--", "sh", "-c", "while :; do :; done & sleep 30"], { stdio: "ignore" });
    try {
      let seen: { pid: number; stat: string; comm: string }[] = [];
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const r = await cli(["ps", "--json", "--prefix", prefix]);
        if (r.code === 0) {
          seen = JSON.parse(r.stdout) as typeof seen;
          // sleep shows in ps as soon as it is claimed, while it may still be starting (R):
          // the read that counts is one where the shell and sleep have settled into their waits.
          const settledIn = (p: { pid: number; stat: string; comm: string }): boolean => p.pid === 2 || (p.stat[0] !== "R" && (p.pid !== 3 || p.comm === "sleep"));
          if (seen.some((p) => p.pid === 2) && seen.some((p) => p.comm === "sleep") && seen.every(settledIn)) break;
        }
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(
        seen.map((p) => p.pid),
        "the loop (2) and sleep (3) did not both appear in blinkd ps within 15 s",
      ).toEqual([1, 2, 3]);
      expect(seen[2]!.comm).toBe("sleep");
      expect(seen.map((p) => p.stat[0])).toEqual(["S", "R", "S"]);
      const dir = path.join(prefix, "proc");
      expect((await cli(["procfs", "export", "--prefix", prefix, dir])).code).toBe(0);
      expect(stateOf(fs.readFileSync(path.join(dir, "2/stat"), "utf8"))).toBe("R");
      expect(fs.readFileSync(path.join(dir, "2/status"), "utf8")).toMatch(/^State:\tR \(running\)$/m);
    } finally {
      run.kill("SIGTERM");
      await new Promise((res) => run.once("exit", res));
    }
  });
});

describe("figures from the host process", () => {
  it("a guest that reports its memory is emulated: FDSize is its own table's (64), not its host process's", async () => {
    // Linux: a process that never had more than a few descriptors has NR_OPEN_DEFAULT slots.
    expect(linux("grep '^FDSize' /proc/self/status")).toBe("FDSize:\t64\n");
    const guest = await ns.track(ns.init.fork());
    // The agent's host process (Node.js) may or may not have grown past 64 slots on its own
    // (libuv's descriptors differ between machines); descriptor 64 makes it grow (to 128).
    expect(await guest.openHostFds(70)).toBeGreaterThanOrEqual(64);
    const host = spawnSync("grep", ["^FDSize", `/proc/${guest.proc.pid}/status`], { encoding: "utf8" }).stdout;
    expect(host).toMatch(/^FDSize:\t(128|256|512|1024)\n$/);
    expect(await text(ns.init, `${guest.pid}/status`)).toMatch(new RegExp(`^${host.trim()}$`, "m"));
    const kb = (n: number): bigint => BigInt(n) << 10n;
    await guest.ok("report_mem", { size: kb(2400), rss: kb(900), rssAnon: kb(100), rssFile: kb(800), rssShmem: 0n, data: kb(300), stk: kb(132), exe: kb(20), lib: kb(1600), lck: 0n, pin: 0n, pte: kb(44), swap: 0n });
    expect(await text(ns.init, `${guest.pid}/status`)).toMatch(/^FDSize:\t64$/m);
    await guest.exit(0);
    await ns.init.ok("wait4", { pid: guest.pid, options: 0 });
  });
});
