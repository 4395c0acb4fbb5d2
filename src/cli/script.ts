/**
 * `blinkd script [--linux | --compare] [--json] FILE…`: runs scenario files (spec/scenarios.md)
 * as guests of a fresh blinkd namespace each, or with --linux on real Linux in a fresh PID
 * namespace (root), and prints each trace. --compare runs both and shows where they differ.
 */
import * as fs from "node:fs";
import { parseScenario, ScenarioError, type Scenario } from "../script/format.js";
import { runScenario, type Trace } from "../script/coordinator.js";
import { BlinkdSide, LinuxSide, linuxUnavailable, missingCalls } from "../script/sides.js";
import { UsageError, intOption, parse } from "./args.js";

const USAGE = "usage: blinkd script [--linux | --compare] [--json] [--trace] [--timeout-ms N] FILE…";

export interface ScriptResult {
  file: string;
  title: string;
  side: "blinkd" | "linux";
  lines?: readonly string[];
  status?: number;
  skipped?: string;
  error?: string;
  deviation?: string;
}

export async function runOn(sc: Scenario, side: "blinkd" | "linux", opts: { trace?: boolean; timeoutMs?: number; onLine?: (l: string) => void } = {}): Promise<ScriptResult> {
  const base = { file: sc.file, title: sc.title, side, ...(sc.deviation ? { deviation: sc.deviation } : {}) };
  if (side === "blinkd") {
    const missing = missingCalls(sc.needs);
    if (missing.length) return { ...base, skipped: `this daemon has no ${missing.join(", ")} call` };
  } else {
    const why = linuxUnavailable();
    if (why) return { ...base, skipped: `the Linux side cannot run here: ${why}` };
  }
  try {
    const t: Trace = await runScenario(sc, side === "blinkd" ? new BlinkdSide({ trace: opts.trace ?? false }) : new LinuxSide(), {
      ...(opts.timeoutMs ? { stepTimeoutMs: opts.timeoutMs } : {}),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    });
    return { ...base, lines: t.lines, status: t.status };
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

/** A unified-style diff of two traces, line by line (traces are short). */
export function diffLines(a: readonly string[], b: readonly string[], la = "linux", lb = "blinkd"): string {
  const n = a.length, m = b.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  const out = [`--- ${la}`, `+++ ${lb}`];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push(`  ${a[i++]}`), j++;
    else if (j < m && (i >= n || dp[i]![j + 1]! >= dp[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out.join("\n") + "\n";
}

export async function scriptCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { linux: { type: "boolean" }, compare: { type: "boolean" }, json: { type: "boolean" }, trace: { type: "boolean" }, "timeout-ms": { type: "string" } },
    USAGE,
    { max: Infinity },
  );
  if (positionals.length === 0) throw new UsageError(`no scenario file given\n${USAGE}`);
  if (values.linux && values.compare) throw new UsageError(`--linux and --compare do not go together\n${USAGE}`);
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
  const sides: ("blinkd" | "linux")[] = values.compare ? ["linux", "blinkd"] : [values.linux ? "linux" : "blinkd"];
  const results: ScriptResult[] = [];
  let bad = 0;
  const out = (s: string): void => void process.stdout.write(s);
  for (const sc of scenarios) {
    const many = scenarios.length > 1 || values.compare;
    const got: ScriptResult[] = [];
    for (const side of sides) {
      if (!values.json && many) out(`== ${sc.file} (${side}): ${sc.title}\n`);
      const stream = !values.json && !values.compare;
      const r = await runOn(sc, side, { trace: values.trace ?? false, ...(timeoutMs ? { timeoutMs } : {}), ...(stream ? { onLine: (l: string) => out(l + "\n") } : {}) });
      got.push(r);
      results.push(r);
      if (r.skipped) process.stderr.write(`blinkd script: ${sc.file}: ${side} side skipped: ${r.skipped}\n`);
      if (r.error) {
        bad++;
        process.stderr.write(`blinkd script: ${sc.file} (${side}): ${r.error}\n`);
      }
    }
    if (values.compare && !values.json) {
      const [l, b] = got;
      if (l?.lines && b?.lines) {
        const same = l.lines.join("\n") === b.lines.join("\n");
        out(same ? l.lines.join("\n") + "\n== same on both sides\n" : diffLines(l.lines, b.lines) + "== the traces differ\n");
        if (!same && !sc.deviation) bad++;
        if (sc.deviation) out(`== deviation: ${sc.deviation}\n`);
      } else {
        // One side could not run (or failed): show what the other printed.
        const only = l?.lines ? l : b?.lines ? b : undefined;
        if (only) out(only.lines!.join("\n") + `\n== ${only.side} side only\n`);
      }
    }
  }
  if (values.json) out(JSON.stringify(results, null, 2) + "\n");
  return bad ? 1 : 0;
}
