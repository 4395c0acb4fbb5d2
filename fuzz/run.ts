/**
 * `npm run fuzz -- [--frames N] [--seed S] [--workers W]`: the long protocol fuzz run
 * against a fresh `blinkd serve` process. Exits 1 on any failure, printing the seed to
 * replay it.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { runFuzz } from "./engine.js";
import { startDaemon } from "./daemon.js";

const { values } = parseArgs({
  options: { frames: { type: "string", default: "100000" }, seed: { type: "string" }, workers: { type: "string", default: "4" } },
  allowPositionals: false,
});
const frames = Number(values.frames);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const workers = Number(values.workers);
if (!Number.isInteger(frames) || frames < 1 || !Number.isInteger(seed) || !Number.isInteger(workers) || workers < 1) {
  process.stderr.write("usage: npm run fuzz -- [--frames N] [--seed S] [--workers W]\n");
  process.exit(2);
}

// A host process that fuzzed register calls may name: the daemon may signal it, nothing else.
const victim = spawn("sleep", ["100000"], { stdio: "ignore" });
const d = await startDaemon();
const t0 = Date.now();
process.stdout.write(`fuzzing ${d.socket} with ${frames} frames, seed ${seed}, ${workers} connections at once\n`);
let ok = false;
try {
  const r = await runFuzz({
    socket: d.socket,
    frames,
    seed,
    workers,
    hostpid: victim.pid!,
    progress: (s) => process.stdout.write(`  ${s.frames} frames, ${s.connections} connections, ${s.fatalCloses} closed with a reason, ${s.steadyCalls} steady calls\r`),
  });
  const s = r.stats;
  const secs = (Date.now() - t0) / 1000;
  const alive = d.proc.exitCode === null && d.proc.signalCode === null;
  process.stdout.write(
    [
      "",
      `frames fuzzed:          ${s.frames} (${(s.bytes / 1e6).toFixed(1)} MB) in ${secs.toFixed(1)} s, ${s.batches} batches`,
      `hostile connections:    ${s.connections}; closed with a FATAL reason ${s.fatalCloses}, after a half-sent frame ${s.plainCloses}`,
      `replies checked:        ${s.errorReplies} errors, ${s.okReplies} successes; ${s.exactChecks} with the exact errno and field`,
      `interrupts sent:        ${s.interruptsSent} (parked calls answered after one: ${s.parkedAnswered})`,
      `steady guest:           ${s.steadyCalls} calls, all answered; ${s.steadyValuesChecked} values checked; ${s.steadyInterrupts} parked waits interrupted; ${s.steadyReaped} orphans reaped`,
      `daemon:                 ${alive ? "alive" : "DEAD"}, ${d.internalErrors.length} internal errors`,
      `consistency check:      ${r.check.ok ? "ok" : "FAILED"} (${r.check.counts.processes} processes, ${r.check.counts.zombies} zombies, ${r.check.counts.embryos} unclaimed, ${r.check.counts.parked} parked, heap ${((r.check.counts.heapNow ?? 0) / 1048576).toFixed(1)} MiB, ${((r.check.counts.heapStart ?? 0) / 1048576).toFixed(1)} MiB at start)`,
      ...r.check.problems.map((p) => `  problem: ${p}`),
      ...r.failures.map((f) => `FAIL ${f}`),
      ...d.internalErrors.slice(0, 20).map((l) => `daemon: ${l}`),
      // The daemon's own side of a failure: its last log lines (closes, refusals, limits).
      ...(r.failures.length ? ["the daemon's last log lines:", ...d.tail.slice(-40).map((l) => `  ${l}`)] : []),
      "",
    ].join("\n"),
  );
  ok = r.failures.length === 0 && r.check.ok && alive && d.internalErrors.length === 0;
  if (!ok) process.stdout.write(`replay with: npm run fuzz -- --frames ${frames} --seed ${seed} --workers ${workers}\n`);
} finally {
  await d.stop();
  victim.kill("SIGKILL");
}
process.exit(ok ? 0 : 1);
