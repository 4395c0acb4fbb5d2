/**
 * What a user waits for (issue 18): whole programs under `blinkd run` (the preload library
 * in every process) against the same programs run natively in the same run, alternated
 * rounds, medians:
 *  - a dash loop of N `/bin/true` (fork + exec + wait per iteration);
 *  - the same loop in busybox sh;
 *  - `make -j2` of N trivial targets (make's own spawn of `true`, two at a time);
 *  - a pipeline-heavy dash script (`echo | cat | tr` N times: three processes each).
 * Natively, as root, each runs in a PID namespace of its own (`unshare --pid --fork
 * --mount-proc`, what `blinkd run` emulates); otherwise as a plain process. A workload's time
 * is its work alone: the command is timed at N and at 0, and the difference divided by N, so
 * the daemon's start-up (a Node.js process) and unshare's are not in the ratio; both start-ups
 * are reported on their own row.
 *
 * Then the floor of the protocol's shape (bench/floor.ts): the two loops natively, with the
 * preload inactive, with the floor preload against a bare server, and under blinkd, with the
 * server's CPU per iteration.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, blinkdArgv } from "./lib/procs.js";
import type { Left, Result, Row } from "./lib/report.js";
import { median, timed } from "./lib/timed.js";
import { floorRows, type FloorMedians } from "./floor.js";

const GOAL = 1.5;

export interface Workload {
  name: string;
  /** What one unit of N is. */
  unit: string;
  n: number;
  /** The command that does k units of the work (files under dir). */
  argv(dir: string, k: number): string[];
}

function loop(dir: string, k: number): string {
  const f = path.join(dir, `loop${k}.sh`);
  fs.writeFileSync(f, `i=0; while [ $i -lt ${k} ]; do /bin/true; i=$((i+1)); done\n`);
  return f;
}

function pipes(dir: string, k: number): string {
  const f = path.join(dir, `pipes${k}.sh`);
  fs.writeFileSync(f, `i=0; while [ $i -lt ${k} ]; do echo $i | cat | tr 0-9 a-j >/dev/null; i=$((i+1)); done\n`);
  return f;
}

function makefile(dir: string, k: number): string {
  const f = path.join(dir, `Makefile${k}`);
  const ts = Array.from({ length: k }, (_, i) => `t${i + 1}`).join(" ");
  fs.writeFileSync(f, `.PHONY: all ${ts}\nall: ${ts}\n\t@:\n${k ? `${ts}:\n\t@true\n` : ""}`);
  return f;
}

export function workloads(quick: boolean): Workload[] {
  const n = quick ? 20 : 200;
  return [
    { name: "dash loop of /bin/true", unit: "iteration", n, argv: (d, k) => ["/bin/dash", loop(d, k)] },
    { name: "busybox sh loop of /bin/true", unit: "iteration", n, argv: (d, k) => ["/bin/busybox", "sh", loop(d, k)] },
    { name: "make -j2, trivial targets", unit: "target", n, argv: (d, k) => ["/usr/bin/make", "-s", "-j2", "-f", makefile(d, k)] },
    { name: "dash pipelines (echo | cat | tr)", unit: "pipeline", n: quick ? 10 : 100, argv: (d, k) => ["/bin/dash", pipes(d, k)] },
  ];
}

type How = "native" | "blinkd";
const isRoot = process.getuid?.() === 0;

function argvFor(how: How, cmd: string[]): string[] {
  if (how === "blinkd") return blinkdArgv(["run", "--", ...cmd]);
  return isRoot ? ["unshare", "--pid", "--fork", "--mount-proc", ...cmd] : cmd;
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;

export async function workloadsBench(quick: boolean): Promise<Result> {
  const rounds = quick ? 1 : 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-bench-workloads-"));
  const ws = workloads(quick);
  const per: Record<string, Record<How, number[]>> = {};
  const start: Record<How, number[]> = { native: [], blinkd: [] };
  let floor: Awaited<ReturnType<typeof floorRows>>;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const w of ws) {
        per[w.name] ??= { native: [], blinkd: [] };
        for (const how of (r % 2 ? ["blinkd", "native"] : ["native", "blinkd"]) as How[]) {
          const zero = await timed(argvFor(how, w.argv(dir, 0)));
          const full = await timed(argvFor(how, w.argv(dir, w.n)));
          if (w === ws[0]) start[how].push(zero.ms);
          per[w.name]![how].push((full.ms - zero.ms) / w.n);
        }
      }
    }
    floor = await floorRows(
      // --quick: the dash loop alone (CI checks that it runs, in a few seconds).
      ws.slice(0, quick ? 1 : 2).map((w) => ({ name: w.name, argv: (k: number) => w.argv(dir, k) })),
      ws[0]!.n,
      rounds,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = ws.map((w) => {
    const b = median(per[w.name]!.native);
    const o = median(per[w.name]!.blinkd);
    return { metric: `${w.name}, per ${w.unit} (N = ${w.n})`, baseline: ms(b), blinkd: ms(o), ratio: o / b, goal: `≤ ${GOAL}×`, met: o / b <= GOAL };
  });
  const sb = median(start.native);
  const so = median(start.blinkd);
  rows.push({ metric: "start-up (the dash loop at N = 0)", baseline: ms(sb), blinkd: ms(so), ratio: so / sb, goal: "report", met: undefined });
  rows.push(...floor.rows);
  return {
    name: "workloads",
    title: `whole programs under \`blinkd run\` against the same natively (${rounds} rounds; baseline: ${isRoot ? "unshare --pid --fork --mount-proc" : "the plain command (not root: no unshare)"})`,
    rows,
    notes: ["a workload's time excludes start-up: (time at N − time at 0) ÷ N on each side; ratio = blinkd ÷ native", ...floor.notes],
    raw: { rounds, per, start, root: isRoot, floor: floor.raw },
    left: ws.map((w, i) => workloadLeft(rows[i]!.metric, floor.medians[w.name], floor.medians[ws[0]!.name]!)),
  };
}

const NEXT =
  "the daemon's CPU per process (Node's socket per connection, the actors' creation, the replies' writes) and fewer awaited round trips per process (the fork's pid without a wait; the child's claim off its path where a core is free): bench/README.md, the latest round's next steps";

/**
 * What is left of a workload's gap, from the floor rows of the same run: the preload's image,
 * the protocol's waits against a server that does nothing else, and the daemon's work over
 * that. A workload without floor rows of its own (make, pipelines) is made of the same
 * per-process path, so the dash loop's floor is cited for it.
 */
function workloadLeft(metric: string, own: FloorMedians | undefined, dash: FloorMedians): Left {
  const f = own ?? dash;
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const parts = own
    ? [
        `natively ${ms(f.native)} per iteration (the plain command)`,
        `the preload's image, no daemon: ${ms(f.inactive)} (${x(f.inactive, f.native)}; +${ms(f.inactive - f.native)})`,
        `the floor, the preload's connects, awaited round trips and doorbells against a server that does nothing else: ${ms(f.floor)} (${x(f.floor, f.native)}; +${ms(f.floor - f.inactive)})`,
        `blinkd run: ${ms(f.blinkd)} (${x(f.blinkd, f.native)}; +${ms(f.blinkd - f.floor)} over the floor); the server's CPU per iteration ${ms(f.cpuBlinkd)} against the floor server's ${ms(f.cpuFloor)}`,
      ]
    : [`no floor of its own: its processes take the dash loop's path (fork, claim, exec, exit, wait), whose parts are under the dash loop's row: floor ${x(f.floor, f.native)} native, blinkd ${x(f.blinkd, f.native)}`];
  const floorX = f.floor / f.native;
  const why =
    floorX > GOAL
      ? `the floor alone is ${floorX.toFixed(2)}× native (> ${GOAL}×): with a connection and these awaited round trips per process, no Node.js server, however little it does, meets the goal; blinkd's own work is ${x(f.blinkd, f.floor)} the floor`
      : `the floor is ${floorX.toFixed(2)}× (within ${GOAL}×): what is left is the daemon's work over it, its CPU ${x(f.cpuBlinkd, f.cpuFloor)} the floor server's`;
  return { metric, parts, why, next: NEXT };
}
