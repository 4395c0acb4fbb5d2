/**
 * What blinkd costs blink, in one run, alternated rounds, medians:
 *  - the patched blink as a guest of blinkd (`blinkd run --blink-path`) against the same
 *    blink run without a daemon, on a fork+exec+wait loop (dash running /bin/true N times)
 *    and a syscall-heavy loop (bench/native/sysloop.c: blink's own calls; and the same with
 *    a signal-mask change and its restore per iteration, which blinkd must hear of);
 *  - the patched blink run without a daemon against upstream blink built the same way
 *    (`npm run build:blink -- --upstream`): what the patch costs those who do not use it.
 * And the workloads of bench/workloads.ts (busybox sh loop, make -j2, dash pipelines, at a
 * fifth of their size there) in blink with and without blinkd (issue 18's goal for them:
 * ≤ 1.5×, as against native).
 * A loop's time is the loop alone: the command is timed at N iterations and at 0, and the
 * difference is divided by N, so the daemon's and blink's start-up are not in the ratio
 * (they are reported on their own row).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RESULTS, ROOT, blinkdArgv } from "./lib/procs.js";
import { perS, type Result, type Row } from "./lib/report.js";
import { median, timed } from "./lib/timed.js";
import { workloads } from "./workloads.js";

/** $BENCH_BLINK: another build of the patched blink (an A/B of two patch series). */
const BLINK = process.env.BENCH_BLINK || path.join(ROOT, "dist/blink/blink");
const UPSTREAM = path.join(ROOT, "dist/blink/upstream/blink");
const SYSLOOP = path.join(RESULTS, "bin/sysloop");

type How = "daemon" | "alone" | "upstream";

/** The argv that runs a program in blink: as PID 1 of a blinkd namespace, alone, or upstream's. */
function argvFor(how: How, cmd: string[]): string[] {
  if (how === "daemon") return blinkdArgv(["run", "--blink-path", BLINK, "--", ...cmd]);
  return [how === "alone" ? BLINK : UPSTREAM, ...cmd];
}

export async function blink(quick: boolean): Promise<Result> {
  const n = quick ? 10 : 100;
  const sysN = quick ? 1000 : 10000;
  const rounds = quick ? 1 : 3;
  const missing = [BLINK, UPSTREAM].filter((f) => !fs.existsSync(f));
  if (missing.length) {
    return {
      name: "blink",
      title: "blink with blinkd against blink without it, and the patched blink against upstream",
      rows: [{ metric: "fork+exec+wait loop", baseline: "skipped", blinkd: "skipped", ratio: undefined, goal: "≤ 1.15×", met: undefined }],
      notes: [`SKIPPED: no ${missing.map((f) => path.relative(ROOT, f)).join(" or ")}; \`npm run build:blink -- --upstream\` builds both from blink's source`],
      raw: {},
    };
  }
  fs.mkdirSync(path.dirname(SYSLOOP), { recursive: true });
  execFileSync("cc", ["-O2", "-Wall", "-o", SYSLOOP, path.join(ROOT, "bench/native/sysloop.c")], { stdio: "inherit" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-bench-blink-"));
  const loop = (k: number): string => {
    const f = path.join(dir, `loop${k}.sh`);
    fs.writeFileSync(f, `i=0; while [ $i -lt ${k} ]; do /bin/true; i=$((i+1)); done\n`);
    return f;
  };
  const loopN = loop(n), loop0 = loop(0);
  // the workloads of bench/workloads.ts but the dash loop (the first row's), smaller: in
  // blink each unit costs tens of milliseconds
  const scale = quick ? 4 : 5;
  const ws = workloads(quick).slice(1).map((w) => ({ ...w, n: Math.max(2, Math.round(w.n / scale)) }));
  const work: Record<string, Record<"daemon" | "alone", number[]>> = {};
  const hows: How[] = ["daemon", "alone", "upstream"];
  const perIter: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const start: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const sys: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const sysMask: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  for (let r = 0; r < rounds; r++) {
    for (const how of r % 2 ? [...hows].reverse() : hows) {
      const zero = await timed(argvFor(how, ["/bin/dash", loop0]));
      const full = await timed(argvFor(how, ["/bin/dash", loopN]));
      start[how].push(zero.ms);
      perIter[how].push((full.ms - zero.ms) / n);
      sys[how].push((JSON.parse((await timed(argvFor(how, [SYSLOOP, String(sysN)]))).out) as { per_s: number }).per_s);
      sysMask[how].push((JSON.parse((await timed(argvFor(how, [SYSLOOP, String(sysN), "mask"]))).out) as { per_s: number }).per_s);
      if (how === "upstream") continue;
      for (const w of ws) {
        const wz = await timed(argvFor(how, w.argv(dir, 0)));
        const wf = await timed(argvFor(how, w.argv(dir, w.n)));
        ((work[w.name] ??= { daemon: [], alone: [] })[how]).push((wf.ms - wz.ms) / w.n);
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const m = (x: Record<How, number[]>, h: How): number => median(x[h]);
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const row = (metric: string, base: string, ours: string, ratio: number, goal: string, limit: number | undefined): Row => ({ metric, baseline: base, blinkd: ours, ratio, goal, met: limit === undefined ? undefined : ratio <= limit });
  const rows: Row[] = [
    row(`fork+exec+wait (dash, /bin/true), per iteration: with blinkd vs without`, ms(m(perIter, "alone")), ms(m(perIter, "daemon")), m(perIter, "daemon") / m(perIter, "alone"), "≤ 1.15×", 1.15),
    row(`syscall loop, iterations/s: with blinkd vs without`, perS(m(sys, "alone")), perS(m(sys, "daemon")), m(sys, "alone") / m(sys, "daemon"), "≤ 1.15×", 1.15),
    row(`syscall loop + a mask change and restore: with blinkd vs without`, perS(m(sysMask, "alone")), perS(m(sysMask, "daemon")), m(sysMask, "alone") / m(sysMask, "daemon"), "report", undefined),
    row(`start-up (blinkd run, dash, no loop): with blinkd vs without`, ms(m(start, "alone")), ms(m(start, "daemon")), m(start, "daemon") / m(start, "alone"), "report", undefined),
    ...ws.map((w) => {
      const a = median(work[w.name]!.alone), d = median(work[w.name]!.daemon);
      return row(`${w.name}, per ${w.unit} (N = ${w.n}): with blinkd vs without`, ms(a), ms(d), d / a, "≤ 1.5×", 1.5);
    }),
    row(`--enable-daemon, no daemon, vs upstream: fork+exec+wait per iteration`, ms(m(perIter, "upstream")), ms(m(perIter, "alone")), m(perIter, "alone") / m(perIter, "upstream"), "≤ 1.01×", 1.01),
    row(`--enable-daemon, no daemon, vs upstream: syscall loop`, perS(m(sys, "upstream")), perS(m(sys, "alone")), m(sys, "upstream") / m(sys, "alone"), "≤ 1.01×", 1.01),
  ];
  return {
    name: "blink",
    title: `blink with blinkd against blink without it (${rounds} rounds × ${n} iterations, ${sysN} syscall-loop iterations; baseline: the same blink without a daemon, or upstream blink)`,
    rows,
    notes: [
      "ratio = time with ÷ time without (loops per second: without ÷ with); a loop's time excludes start-up (N iterations minus 0)",
      "the mask row: blinkd hears of each mask change (spec/signals.md §2.3), posted, not awaited: the block only blocks more, and the restore unblocks nothing blinkd holds (delivery 2, §4.1)",
    ],
    raw: { n, sysN, rounds, perIter, start, sys, sysMask, work },
  };
}
