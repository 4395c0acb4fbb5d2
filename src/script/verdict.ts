/**
 * Whether blinkd's trace of a scenario is Linux's: against the trace Linux printed here and
 * now when it could run, else against the stored one (traces.ts); and whether the stored
 * one is still what Linux prints. Used by `blinkd script --compare` and the test suite.
 */
import type { Scenario } from "./format.js";
import { expectedVariant, matchingVariant, sameLines, storedProblems, thisKernel, type Variant } from "./traces.js";
import { changedLines, type BlinkDeviation } from "./blinkdeviations.js";

export interface Verdict {
  /** What fails the comparison. */
  readonly problems: string[];
  /** What is worth saying and is no failure (a deviation's diff, a kernel's variant). */
  readonly notes: string[];
  /** The Linux trace blinkd was held to, and where it came from. */
  readonly against?: { readonly lines: readonly string[]; readonly from: string };
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

/**
 * Judges one scenario. `live`: Linux's trace from this run (undefined when Linux could not
 * run); `stored`: the recorded variants (undefined when none); `blinkd`: the trace of the
 * daemon's side, `side` its name (blinkd, or blink); `requireStored`: a missing or stale
 * stored trace is a failure (the suite), not only a note (an ad hoc file).
 */
export function judge(sc: Scenario, stored: readonly Variant[] | undefined, live: readonly string[] | undefined, blinkd: readonly string[], requireStored: boolean, side = "blinkd"): Verdict {
  const problems: string[] = [];
  const notes: string[] = [];
  const bad = stored || requireStored ? storedProblems(sc, stored) : [];
  (requireStored ? problems : notes).push(...bad);
  const expected = stored && bad.length === 0 ? expectedVariant(stored) : undefined;
  let against: Verdict["against"];
  if (live) {
    const seen = stored ? matchingVariant(stored, live) : undefined;
    if (stored && !seen) {
      const was = expectedVariant(stored) ?? stored[0];
      problems.push(
        `Linux's trace on this kernel (${thisKernel()}) is none of the stored ones in the .linux file: if the scenario or its output changed, record it again as root with \`npm run traces\`; if not, this kernel differs (spec/scenarios.md, "Kernels that differ")\n` +
          (was ? diffLines(was.lines, live, `stored (kernel ${was.kernel})`, `linux ${thisKernel()}`) : ""),
      );
    }
    // Where kernels differ, blinkd follows POSIX and mainline's source, whichever this kernel does.
    if (expected && stored!.length > 1) {
      against = { lines: expected.lines, from: `the mainline trace (kernel ${expected.kernel})` };
      if (seen && seen !== expected) notes.push(`this kernel (${thisKernel()}) prints the trace of kernel ${seen.kernel}, not the mainline one (varies: ${sc.varies})\n${diffLines(expected.lines, live, "mainline", `linux ${thisKernel()}`)}`);
    } else against = { lines: live, from: `Linux (${thisKernel()})` };
  } else if (expected) against = { lines: expected.lines, from: `the stored trace (kernel ${expected.kernel})` };
  if (!against) return { problems, notes };
  const same = sameLines(against.lines, blinkd);
  if (sc.deviation) {
    if (same) problems.push(`${sc.file} now matches ${against.from}: ${side === "blinkd" ? "remove its deviation: line" : "remove it from \"Scenarios that differ in blink\" in spec/blink.md"}`);
    else notes.push(`known deviation (${sc.deviation}):\n${diffLines(against.lines, blinkd, "linux", side)}`);
  } else if (!same) problems.push(`${sc.file}: ${side}'s trace differs from ${against.from}\n${diffLines(against.lines, blinkd, "linux", side)}`);
  return { problems, notes, against };
}

/**
 * judge() for the blink side: a scenario's `deviation:` header is the Node.js agents' (blinkd's
 * side), not blink's; blink's are spec/blink.md's list (blinkdeviations.ts), and where one is
 * listed blink's difference from Linux must be exactly its lines.
 */
export function judgeBlink(sc: Scenario, dev: BlinkDeviation | undefined, stored: readonly Variant[] | undefined, live: readonly string[] | undefined, blink: readonly string[], requireStored: boolean): Verdict {
  const v = judge({ ...sc, deviation: dev?.reason }, stored, live, blink, requireStored, "blink");
  if (!dev || !v.against || sameLines(v.against.lines, blink)) return v;
  const diff = diffLines(v.against.lines, blink, "linux", "blink");
  if (changedLines(diff).join("\n") === dev.diff.join("\n")) return v;
  return { ...v, problems: [...v.problems, `${sc.file}: blink's difference from Linux is no longer the one spec/blink.md lists:\n${diff}`] };
}
