/**
 * Loaded into `blinkd run` by the workloads bench (`node --import …/rusage.js bin/blinkd.js run
 * …`): at exit it appends the process's own CPU (process.resourceUsage(), µs) as one JSON line
 * to the file named by BLINKD_BENCH_RUSAGE. `blinkd run` is the daemon, so this is the
 * daemon's CPU. It adds nothing else.
 */
import * as fs from "node:fs";

const file = process.env.BLINKD_BENCH_RUSAGE;
if (file) {
  process.on("exit", () => {
    const r = process.resourceUsage();
    fs.appendFileSync(file, JSON.stringify({ user: r.userCPUTime, system: r.systemCPUTime }) + "\n");
  });
}
