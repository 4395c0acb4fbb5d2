/**
 * The floor of the protocol's shape (issue 18): the dash and busybox sh loops of `/bin/true`
 * (bench/workloads.ts) four ways, alternated in each round, per iteration ((N − 0) ÷ N):
 *  - native: the plain command (no PID namespace: `blinkd run`'s guests have none either);
 *  - preload inactive: LD_PRELOAD=libblinkd-preload.so without a daemon (its constructor
 *    returns at once: the cost of the library's image alone);
 *  - floor: LD_PRELOAD=floor.so (bench/native/floor.c) against bench/floor-server.ts: the same
 *    connects, awaited round trips, posted frames and SIGCHLD doorbells as libblinkd-preload.so
 *    makes on this loop, against a server that does nothing else;
 *  - blinkd: `blinkd run`, as the workloads rows.
 * And the server's CPU per iteration: the floor server's own process.cpuUsage() (asked with
 * SIGUSR2 before and after each run), the daemon's process.resourceUsage() at exit (rusage.ts).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { ROOT, RESULTS, loadAverage, stopper } from "./lib/procs.js";
import type { Row } from "./lib/report.js";
import { median, timed, timedDaemon } from "./lib/timed.js";

const FLOOR_SRC = path.join(ROOT, "bench/native/floor.c");
const FLOOR_SO = path.join(RESULTS, "bin/floor.so");
const FLOOR_SERVER = path.join(ROOT, "dist/bench/floor-server.js");
const PRELOAD = path.join(ROOT, "dist/c/libblinkd-preload.so");

export type FloorHow = "native" | "inactive" | "floor" | "blinkd";
const HOWS: FloorHow[] = ["native", "inactive", "floor", "blinkd"];

interface FloorServer {
  socket: string;
  proc: ChildProcess;
  /** The server's CPU so far, µs (user + system). */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

async function startFloorServer(): Promise<FloorServer> {
  const socket = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-bench-floor-")), "floor.sock");
  const proc = spawn(process.execPath, [FLOOR_SERVER, socket], { stdio: ["ignore", "pipe", "inherit"] });
  const waiters: ((us: number) => void)[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("floor server: no 'listening' in 10 s")), 10_000);
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      if (l === "listening") return clearTimeout(t), resolve();
      const m = /^cpu (\d+) (\d+)$/.exec(l);
      if (m) waiters.shift()?.(Number(m[1]) + Number(m[2]));
    });
    proc.once("exit", (c) => reject(new Error(`floor server exited with ${c}`)));
  });
  return {
    socket,
    proc,
    cpu: () =>
      new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("floor server: no cpu line in 5 s")), 5_000);
        waiters.push((us) => (clearTimeout(t), resolve(us)));
        proc.kill("SIGUSR2");
      }),
    stop: stopper(proc),
  };
}

/** One run of argv the given way: its wall time and the server's CPU during it (ms). */
async function run(how: FloorHow, cmd: string[], server: FloorServer): Promise<{ ms: number; cpu: number }> {
  if (how === "native") return { ms: (await timed(cmd)).ms, cpu: 0 };
  if (how === "inactive") return { ms: (await timed(cmd, { LD_PRELOAD: PRELOAD })).ms, cpu: 0 };
  if (how === "floor") {
    const c0 = await server.cpu();
    const t = await timed(cmd, { LD_PRELOAD: FLOOR_SO, FLOOR_SOCKET: server.socket });
    return { ms: t.ms, cpu: ((await server.cpu()) - c0) / 1000 };
  }
  return timedDaemon(["--", ...cmd]);
}

export interface FloorLoop {
  name: string;
  argv(k: number): string[];
}

/** One loop's medians per iteration, ms: wall time each way and the server's CPU (the floor server's, the daemon's). */
export interface FloorMedians {
  native: number;
  inactive: number;
  floor: number;
  blinkd: number;
  cpuFloor: number;
  cpuBlinkd: number;
}

export async function floorRows(
  loops: FloorLoop[],
  n: number,
  rounds: number,
): Promise<{ rows: Row[]; notes: string[]; medians: Record<string, FloorMedians>; raw: Record<string, unknown> }> {
  fs.mkdirSync(path.dirname(FLOOR_SO), { recursive: true });
  execFileSync("cc", ["-O2", "-Wall", "-shared", "-fPIC", "-o", FLOOR_SO, FLOOR_SRC, "-ldl"], { stdio: "inherit" });
  const load0 = loadAverage();
  const server = await startFloorServer();
  const wall: Record<string, Record<FloorHow, number[]>> = {};
  const cpu: Record<string, Record<"floor" | "blinkd", number[]>> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const l of loops) {
        wall[l.name] ??= { native: [], inactive: [], floor: [], blinkd: [] };
        cpu[l.name] ??= { floor: [], blinkd: [] };
        // Alternated: forward in even rounds, backward in odd ones.
        for (const how of r % 2 ? [...HOWS].reverse() : HOWS) {
          const zero = await run(how, l.argv(0), server);
          const full = await run(how, l.argv(n), server);
          wall[l.name]![how].push((full.ms - zero.ms) / n);
          if (how === "floor" || how === "blinkd") cpu[l.name]![how].push((full.cpu - zero.cpu) / n);
        }
      }
    }
  } finally {
    await server.stop();
  }
  const load1 = loadAverage();
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const rows: Row[] = [];
  const medians: Record<string, FloorMedians> = {};
  for (const l of loops) {
    const w = wall[l.name]!;
    const m = (medians[l.name] = {
      native: median(w.native),
      inactive: median(w.inactive),
      floor: median(w.floor),
      blinkd: median(w.blinkd),
      cpuFloor: median(cpu[l.name]!.floor),
      cpuBlinkd: median(cpu[l.name]!.blinkd),
    });
    for (const how of ["inactive", "floor", "blinkd"] as const) {
      const what = how === "inactive" ? "preload inactive (no daemon)" : how === "floor" ? "floor (preload-shaped traffic, bare server)" : "blinkd run";
      rows.push({ metric: `${l.name}: ${what}, per iteration`, baseline: ms(m.native), blinkd: ms(m[how]), ratio: m[how] / m.native, goal: "report", met: undefined });
    }
    rows.push({ metric: `${l.name}: server CPU per iteration, floor server vs blinkd`, baseline: ms(m.cpuFloor), blinkd: ms(m.cpuBlinkd), ratio: m.cpuBlinkd / m.cpuFloor, goal: "report", met: undefined });
  }
  const notes = [
    `floor rows: baseline = the plain command natively (no PID namespace, as blinkd run's guests), N = ${n}, ${rounds} round(s) alternated, medians; load average ${load0} → ${load1}`,
  ];
  return { rows, notes, medians, raw: { n, rounds, wall, cpu, load: [load0, load1] } };
}
