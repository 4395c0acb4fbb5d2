/** Running a command to its end and timing it, for the benchmarks that time whole programs (blink, workloads). */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BIN, BIN_ENV, BIN_NODE_FLAGS, ROOT } from "./procs.js";

const RUSAGE = path.join(ROOT, "dist/bench/rusage.js");

/** Runs argv to the end with the daemon's variables taken out of the environment; its wall time in ms and its stdout. */
export function timed(argv: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ ms: number; out: string }> {
  const env = { ...process.env };
  for (const k of ["BLINKD_SOCKET", "BLINKD_TOKEN", "BLINK_PREFIX", "LD_PRELOAD"]) delete env[k];
  Object.assign(env, extraEnv);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"], env });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.once("error", reject);
    p.once("close", (code) => (code === 0 ? resolve({ ms: performance.now() - t0, out }) : reject(new Error(`${argv.join(" ")} exited with ${code}`))));
  });
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `blinkd run ARGS…` to its end: its wall time and the daemon's own CPU (user + system, ms),
 * which bench/rusage.ts appends at the daemon's exit (`blinkd run` is the daemon).
 */
export async function timedDaemon(args: string[]): Promise<{ ms: number; cpu: number; out: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-bench-rusage-"));
  const file = path.join(dir, "rusage.jsonl");
  try {
    const t = await timed([process.execPath, ...BIN_NODE_FLAGS, "--import", RUSAGE, BIN, "run", ...args], { ...BIN_ENV, BLINKD_BENCH_RUSAGE: file });
    const r = JSON.parse(fs.readFileSync(file, "utf8").trim().split("\n")[0]!) as { user: number; system: number };
    return { ...t, cpu: (r.user + r.system) / 1000 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
