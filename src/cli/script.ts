/**
 * `blinkd script [--linux | --compare | --record] [--blink] [--json] FILE…`: runs scenario
 * files (spec/scenarios.md) as guests of a fresh blinkd namespace each (Node.js agents, or
 * with --blink the C agent in the patched blink), or with --linux on real Linux in a fresh
 * PID namespace (root), and prints each trace. --compare runs Linux and the daemon's side and
 * shows where they differ; where Linux cannot run, that side is compared with the stored
 * Linux trace (NAME.linux beside the scenario). --record (root) writes the stored traces.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseScenario, ScenarioError, type Scenario } from "../script/format.js";
import { STEP_TIMEOUT_MS, runScenario, type Trace } from "../script/coordinator.js";
import { BlinkSide, BlinkdSide, LinuxSide, blinkUnavailable, linuxUnavailable, missingCalls } from "../script/sides/index.js";
import type { Side } from "../script/coordinator.js";
import { TraceFileError, readTraces, recordVariant, traceFileOf, writeTraces, type Variant } from "../script/traces.js";
import { judge, judgeBlink } from "../script/verdict.js";
import { blinkDeviations } from "../script/blinkdeviations.js";
import { UsageError, intOption, parse } from "./args.js";

const USAGE = "usage: blinkd script [--linux | --compare | --record] [--blink] [--json] [--trace] [--timeout-ms N] FILE…";

/** Where a scenario runs: blinkd (Node.js agents), blink (the C agent in blink), or Linux. */
export type SideName = "blinkd" | "blink" | "linux";

export interface ScriptResult {
  file: string;
  title: string;
  side: SideName;
  lines?: readonly string[];
  status?: number;
  skipped?: string;
  error?: string;
  deviation?: string;
}

export async function runOn(sc: Scenario, side: SideName, opts: { trace?: boolean; timeoutMs?: number; onLine?: (l: string) => void } = {}): Promise<ScriptResult> {
  const base = { file: sc.file, title: sc.title, side, ...(sc.deviation ? { deviation: sc.deviation } : {}) };
  // Its steps act as other users: without root both sides would be another scenario (EPERM).
  if (sc.root && process.getuid?.() !== 0) return { ...base, skipped: `it needs root: ${sc.root}` };
  if (side === "linux") {
    const why = linuxUnavailable();
    if (why) return { ...base, skipped: `the Linux side cannot run here: ${why}` };
  } else {
    const missing = missingCalls(sc.needs);
    if (missing.length) return { ...base, skipped: `this daemon has no ${missing.join(", ")} call` };
    const why = side === "blink" ? blinkUnavailable() : undefined;
    if (why) return { ...base, skipped: `the blink side cannot run here: ${why}` };
  }
  const trace = opts.trace ?? false;
  // A fork's child may take as long to start as any step may take (the daemon's reservation lives that long).
  const daemonOpts = { trace, reserveTimeoutMs: opts.timeoutMs ?? STEP_TIMEOUT_MS };
  const where: Side = side === "linux" ? new LinuxSide() : side === "blink" ? new BlinkSide(daemonOpts) : new BlinkdSide(daemonOpts);
  try {
    const t: Trace = await runScenario(sc, where, {
      ...(opts.timeoutMs ? { stepTimeoutMs: opts.timeoutMs } : {}),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    });
    return { ...base, lines: t.lines, status: t.status };
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

export async function scriptCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { linux: { type: "boolean" }, blink: { type: "boolean" }, compare: { type: "boolean" }, record: { type: "boolean" }, json: { type: "boolean" }, trace: { type: "boolean" }, "timeout-ms": { type: "string" } },
    USAGE,
    { max: Infinity },
  );
  if (positionals.length === 0) throw new UsageError(`no scenario file given\n${USAGE}`);
  if ([values.linux, values.compare, values.record].filter(Boolean).length > 1) throw new UsageError(`--linux, --compare and --record do not go together\n${USAGE}`);
  if (values.blink && (values.linux || values.record)) throw new UsageError(`--blink goes with no option or --compare: --linux and --record run Linux alone\n${USAGE}`);
  const timeoutMs = intOption(values["timeout-ms"], "timeout-ms", 100, 3_600_000);
  const scenarios: Scenario[] = [];
  for (const f of positionals) {
    let text: string;
    try {
      text = fs.readFileSync(f, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
    }
    try {
      scenarios.push(parseScenario(text, f));
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(e.message);
      throw e;
    }
  }
  const out = (s: string): void => void process.stdout.write(s);
  const opts = { trace: values.trace ?? false, ...(timeoutMs ? { timeoutMs } : {}) };
  if (values.record) return record(scenarios, opts, out);
  const ours: SideName = values.blink ? "blink" : "blinkd";
  const sides: SideName[] = values.compare ? ["linux", ours] : [values.linux ? "linux" : ours];
  const results: ScriptResult[] = [];
  let bad = 0;
  for (const sc of scenarios) {
    const many = scenarios.length > 1 || values.compare;
    const got: ScriptResult[] = [];
    for (const side of sides) {
      if (!values.json && many) out(`== ${sc.file} (${side}): ${sc.title}\n`);
      const stream = !values.json && !values.compare;
      const r = await runOn(sc, side, { ...opts, ...(stream ? { onLine: (l: string) => out(l + "\n") } : {}) });
      got.push(r);
      results.push(r);
      if (r.skipped) process.stderr.write(`blinkd script: ${sc.file}: ${side} side skipped: ${r.skipped}\n`);
      if (r.error) {
        bad++;
        process.stderr.write(`blinkd script: ${sc.file} (${side}): ${r.error}\n`);
      }
    }
    if (values.compare && !values.json) bad += compareOne(sc, got[0]!, got[1]!, out);
  }
  if (values.json) out(JSON.stringify(results, null, 2) + "\n");
  return bad ? 1 : 0;
}

/** --compare's verdict for one scenario, printed; 1 when it failed. */
function compareOne(sc: Scenario, l: ScriptResult, b: ScriptResult, out: (s: string) => void): number {
  let stored: Variant[] | undefined;
  try {
    stored = readTraces(sc.file);
  } catch (e) {
    if (!(e instanceof TraceFileError)) throw e;
    out(`== ${e.message}\n`);
    return 1;
  }
  if (!b.lines) {
    if (l.lines) out(l.lines.join("\n") + "\n== linux side only\n");
    return 0;
  }
  const v = b.side === "blink" ? judgeBlink(sc, blinkDeviations().get(path.basename(sc.file, ".scenario")), stored, l.lines, b.lines, false) : judge(sc, stored, l.lines, b.lines, false, b.side);
  if (!v.against) {
    out(b.lines.join("\n") + `\n== ${b.side} side only\n`);
    for (const n of v.notes) out(`== ${n}\n`);
    return 0;
  }
  if (!l.lines) out(`== compared with ${v.against.from} in ${traceFileOf(sc.file)}\n`);
  for (const n of v.notes) out(`== ${n}\n`);
  if (v.problems.length === 0) out(b.lines.join("\n") + (l.lines && v.against.lines === l.lines ? "\n== same on both sides\n" : `\n== same as ${v.against.from}\n`));
  else for (const p of v.problems) out(`${p}\n== the traces differ\n`);
  if (sc.deviation && b.side === "blinkd") out(`== deviation: ${sc.deviation}\n`);
  return v.problems.length ? 1 : 0;
}

/** --record: runs each scenario on Linux and writes (or keeps) its stored trace. */
async function record(scenarios: Scenario[], opts: { trace: boolean; timeoutMs?: number }, out: (s: string) => void): Promise<number> {
  const why = linuxUnavailable();
  if (why) throw new UsageError(`--record runs the scenarios on Linux, which cannot run here: ${why}`);
  let bad = 0;
  for (const sc of scenarios) {
    const r = await runOn(sc, "linux", opts);
    if (!r.lines) {
      bad++;
      process.stderr.write(`blinkd script --record: ${sc.file}: ${r.error ?? r.skipped}\n`);
      continue;
    }
    let stored: Variant[] | undefined;
    try {
      stored = readTraces(sc.file);
    } catch (e) {
      if (!(e instanceof TraceFileError)) throw e;
      process.stderr.write(`blinkd script --record: ${e.message}; writing it anew\n`);
    }
    const { variants, did } = recordVariant(sc, stored, r.lines);
    if (!did.startsWith("unchanged")) writeTraces(sc, variants);
    out(`${traceFileOf(sc.file)}: ${did}\n`);
  }
  return bad ? 1 : 0;
}
