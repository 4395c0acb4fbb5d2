/**
 * Loaded into a benchmarked daemon with `node --expose-gc --import …/probe.js bin/blinkd.js serve`:
 * on SIGUSR2 it collects garbage and prints the daemon's memory on stderr as one line
 * `blinkd-bench-memory {json}`. It adds nothing else to the daemon.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on("SIGUSR2", () => {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`blinkd-bench-memory ${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
});
