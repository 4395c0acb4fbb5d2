/** Running a command to its end and timing it, for the benchmarks that time whole programs (blink, workloads). */
import { spawn } from "node:child_process";

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
