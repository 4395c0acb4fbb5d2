/**
 * A native process's host pid, once its host process died unreported, may be reused by an
 * unrelated program: a signal for the native process must not reach the newcomer. Shown in
 * a fresh PID namespace (unshare, as root), where /proc/sys/kernel/ns_last_pid makes the
 * reuse happen on demand (spec/guests/hostpid-reuse.mjs runs there as PID 1).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/daemon.js";

const root = process.getuid?.() === 0;
if (!root) process.stderr.write("harden.hostpid: SKIPPED, needs root for unshare --pid and ns_last_pid\n");

describe("host pids", () => {
  it.skipIf(!root)("a kill of a native process reaches its live host process, and spares a program that reused the host pid of one that died unreported", () => {
    const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", process.execPath, path.join(ROOT, "spec/guests/hostpid-reuse.mjs")], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "native process, host alive: host process ended by SIGTERM",
      "host pid reused: true",
      "native process, host pid reused: the newcomer lives",
    ]);
  });
});
