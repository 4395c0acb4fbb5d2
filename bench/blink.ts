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
import { RESULTS, ROOT } from "./lib/procs.js";
import { perS, type Left, type Result, type Row } from "./lib/report.js";
import { median, timed, timedDaemon } from "./lib/timed.js";
import { workloads } from "./workloads.js";

/** $BENCH_BLINK: another build of the patched blink (an A/B of two patch series). */
const BLINK = process.env.BENCH_BLINK || path.join(ROOT, "dist/blink/blink");
const UPSTREAM = path.join(ROOT, "dist/blink/upstream/blink");
const SYSLOOP = path.join(RESULTS, "bin/sysloop");

type How = "daemon" | "alone" | "upstream";

/**
 * Runs a program in blink to its end: as PID 1 of a blinkd namespace (with the daemon's own
 * CPU, ms), alone, or upstream's (cpu 0: no daemon).
 */
async function runIn(how: How, cmd: string[]): Promise<{ ms: number; cpu: number; out: string }> {
  if (how === "daemon") return timedDaemon(["--blink-path", BLINK, "--", ...cmd]);
  return { ...(await timed([how === "alone" ? BLINK : UPSTREAM, ...cmd])), cpu: 0 };
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
  /** The daemon's CPU per unit (ms), the fork loop's and each workload's. */
  const cpu: Record<string, number[]> = {};
  const LOOP = "fork loop";
  const hows: How[] = ["daemon", "alone", "upstream"];
  const perIter: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const start: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const sys: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  const sysMask: Record<How, number[]> = { daemon: [], alone: [], upstream: [] };
  for (let r = 0; r < rounds; r++) {
    for (const how of r % 2 ? [...hows].reverse() : hows) {
      const zero = await runIn(how, ["/bin/dash", loop0]);
      const full = await runIn(how, ["/bin/dash", loopN]);
      start[how].push(zero.ms);
      perIter[how].push((full.ms - zero.ms) / n);
      if (how === "daemon") (cpu[LOOP] ??= []).push((full.cpu - zero.cpu) / n);
      sys[how].push((JSON.parse((await runIn(how, [SYSLOOP, String(sysN)])).out) as { per_s: number }).per_s);
      sysMask[how].push((JSON.parse((await runIn(how, [SYSLOOP, String(sysN), "mask"])).out) as { per_s: number }).per_s);
      if (how === "upstream") continue;
      for (const w of ws) {
        const wz = await runIn(how, w.argv(dir, 0));
        const wf = await runIn(how, w.argv(dir, w.n));
        ((work[w.name] ??= { daemon: [], alone: [] })[how]).push((wf.ms - wz.ms) / w.n);
        if (how === "daemon") (cpu[w.name] ??= []).push((wf.cpu - wz.cpu) / w.n);
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const m = (x: Record<How, number[]>, h: How): number => median(x[h]);
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const row = (metric: string, base: string, ours: string, ratio: number, goal: string, limit: number | undefined): Row => ({ metric, baseline: base, blinkd: ours, ratio, goal, met: limit === undefined ? undefined : ratio <= limit });
  const loopRow = `fork+exec+wait (dash, /bin/true), per iteration: with blinkd vs without`;
  const workRow = (w: (typeof ws)[number]): string => `${w.name}, per ${w.unit} (N = ${w.n}): with blinkd vs without`;
  const rows: Row[] = [
    row(loopRow, ms(m(perIter, "alone")), ms(m(perIter, "daemon")), m(perIter, "daemon") / m(perIter, "alone"), "≤ 1.15×", 1.15),
    row(`syscall loop, iterations/s: with blinkd vs without`, perS(m(sys, "alone")), perS(m(sys, "daemon")), m(sys, "alone") / m(sys, "daemon"), "≤ 1.15×", 1.15),
    row(`syscall loop + a mask change and restore: with blinkd vs without`, perS(m(sysMask, "alone")), perS(m(sysMask, "daemon")), m(sysMask, "alone") / m(sysMask, "daemon"), "report", undefined),
    row(`start-up (blinkd run, dash, no loop): with blinkd vs without`, ms(m(start, "alone")), ms(m(start, "daemon")), m(start, "daemon") / m(start, "alone"), "report", undefined),
    ...ws.map((w) => {
      const a = median(work[w.name]!.alone), d = median(work[w.name]!.daemon);
      return row(workRow(w), ms(a), ms(d), d / a, "≤ 1.5×", 1.5);
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
    raw: { n, sysN, rounds, perIter, start, sys, sysMask, work, daemonCpu: cpu },
    left: [
      unitLeft(loopRow, m(perIter, "alone"), m(perIter, "daemon"), median(cpu[LOOP]!), 1.15),
      ...ws.map((w) => unitLeft(workRow(w), median(work[w.name]!.alone), median(work[w.name]!.daemon), median(cpu[w.name]!), 1.5)),
      ...[rows[1]!, rows.at(-2)!, rows.at(-1)!].map((r, i) => spreadLeft(r, i ? NO_DAEMON : "the loop makes no call to blinkd (blink answers its calls itself)", [sys.alone, perIter.upstream, sys.upstream][i]!)),
    ],
  };
}

/**
 * What is left of a blink row whose work calls the daemon: blink's own time, the time the
 * daemon adds and the daemon's own CPU per unit, against what the goal allows.
 */
function unitLeft(metric: string, alone: number, withD: number, cpu: number, goal: number): Left {
  const allowed = alone * (goal - 1);
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  return {
    metric,
    parts: [`blink alone ${ms(alone)} per unit; with blinkd ${ms(withD)} (+${ms(withD - alone)}; the goal allows +${ms(allowed)})`, `the daemon's own CPU per unit ${ms(cpu)} (its process.resourceUsage(), at N − at 0)`],
    why:
      cpu > allowed
        ? `the daemon's CPU alone is ${(cpu / allowed).toFixed(1)}× what the goal allows, on the two cores blink's processes use too`
        : `the daemon's CPU fits what the goal allows: the waits for its replies (the fork, the blocking wait4, the SIGCHLD) are what is left`,
    next: "the daemon's CPU per process, and blink taking the doorbell's signal inside its wait for a reply instead of sending an interrupt frame (bench/README.md, the latest round's next steps)",
  };
}

const NO_DAEMON = "no daemon runs: the two builds differ by the patch's tests for one alone";

/** A row without daemon work: what it misses by is set against the rounds' own spread. */
function spreadLeft(r: Row, what: string, xs: number[]): Left {
  const spread = (Math.max(...xs) - Math.min(...xs)) / median(xs);
  const diff = (r.ratio ?? 1) - 1;
  const pc = (v: number): string => `${(v * 100).toFixed(1)}%`;
  return {
    metric: r.metric,
    parts: [what, `the baseline's own rounds spread by ${pc(spread)} (${xs.length} rounds)`],
    why:
      xs.length < 3
        ? `${xs.length} round(s): no spread to set the difference (${pc(diff)}) against; a full run has 3`
        : diff <= spread
        ? `the difference (${pc(diff)}) is inside that spread: a run of this length cannot tell it apart from none`
        : `the difference (${pc(diff)}) is outside that spread: a cost of the patch to find with a profile of the two builds`,
    next: "more rounds (or a quiet machine) to judge a 1% goal; no design step",
  };
}
