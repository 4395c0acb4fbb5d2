/**
 * Where a workload's daemon time goes per unit of work, from two `node --cpu-prof` profiles of
 * the same command at N and at 0 units (bench/README.md, eleventh round):
 *
 *   node --max-semi-space-size=2 --cpu-prof --cpu-prof-interval 100 --cpu-prof-dir P1000 bin/blinkd.js run -- dash loop.sh 1000
 *   node … --cpu-prof-dir P0 bin/blinkd.js run -- dash loop.sh 0
 *   node dist/bench/cpusections.js P1000/*.cpuprofile P0/*.cpuprofile 1000 [rows]
 *
 * prints the busy time per unit ((t(N) − t(0)) ÷ N, µs), then the self time by section (a file
 * of ours or a dependency, found from the bundle's `// path` comments; a Node.js internal by its
 * module; V8 and system calls as "(vm)"), then by function. The profiler samples the main
 * thread's wall time: a system call that wakes a guest (a write, a kill) is charged the time
 * until the daemon runs again, so on a busy machine those rows read high.
 */
import * as fs from "node:fs";

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

const marksOf = new Map<string, [number, string][]>();

/** The bundle section (`// dist/src/x.js`, `// node_modules/…`) holding a line of a file, or the url itself. */
function sectionOf(url: string, line: number): string {
  if (url === "") return "(vm)";
  if (!url.startsWith("file://")) return url;
  const file = url.slice("file://".length);
  let marks = marksOf.get(file);
  if (!marks) {
    marks = [];
    // A bundle rebuilt since the profile was taken (or gone) has other lines: its file stands whole.
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    text.split("\n").forEach((l, i) => {
      const m = /^\/\/ ((?:dist|node_modules)\/\S+)$/.exec(l);
      if (m) marks!.push([i, m[1]!]);
    });
    marksOf.set(file, marks);
  }
  let s = file;
  for (const [i, p] of marks) {
    if (i > line) break;
    s = p;
  }
  return s.replace(/^dist\/src\//, "").replace(/^node_modules\//, "nm/").replace(/\/dist\/esm\//, "/");
}

/** Busy and per-key self time (µs) of one profile. */
function selfTimes(file: string): { busy: number; bySection: Map<string, number>; byFunction: Map<string, number> } {
  const prof = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const bySection = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    const cf = byId.get(prof.samples[i]!)!.callFrame;
    if (cf.functionName === "(idle)") continue;
    busy += dt;
    const section = sectionOf(cf.url, cf.lineNumber);
    const fn = `${cf.functionName || "(anonymous)"} ${section}:${cf.lineNumber + 1}`;
    bySection.set(section, (bySection.get(section) ?? 0) + dt);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  }
  return { busy, bySection, byFunction };
}

/** (a − b) ÷ n per key, largest first. */
function perUnit(a: Map<string, number>, b: Map<string, number>, n: number): [string, number][] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].map((k): [string, number] => [k, ((a.get(k) ?? 0) - (b.get(k) ?? 0)) / n]).sort((x, y) => y[1] - x[1]);
}

const [atN, at0, units, rows = "30"] = process.argv.slice(2);
if (!atN || !at0 || !units) {
  console.error("usage: node dist/bench/cpusections.js PROFILE_AT_N PROFILE_AT_0 N [rows]");
  process.exit(2);
}
const n = Number(units);
const a = selfTimes(atN);
const b = selfTimes(at0);
console.log(`busy ${((a.busy - b.busy) / n).toFixed(1)} µs per unit (${(a.busy / 1000).toFixed(0)} ms at N, ${(b.busy / 1000).toFixed(0)} ms at 0)`);
for (const [title, rowsOf] of [
  ["self time by section, µs per unit", perUnit(a.bySection, b.bySection, n)],
  ["self time by function, µs per unit", perUnit(a.byFunction, b.byFunction, n)],
] as const) {
  console.log(`--- ${title}`);
  for (const [k, v] of rowsOf.slice(0, Number(rows))) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
}
