/**
 * The stored Linux traces of the scenarios (spec/scenarios.md, "The stored Linux traces"):
 * `NAME.linux` beside `NAME.scenario` holds what the scenario printed as PID 1 of a real PID
 * namespace, so that blinkd can be compared with Linux where Linux cannot run (not root),
 * and so that a run as root sees when Linux has changed. One file holds one trace, or one
 * per kernel when the scenario says that kernels differ (`varies:`); then the one marked
 * `mainline` (POSIX and mainline's source) is the one blinkd must print.
 *
 *   # comment lines
 *   == linux RELEASE · steps HASH[ · mainline][ · NOTE]
 *   trace lines…
 *
 * HASH is of the scenario's steps (not its comments or headers): a trace recorded for other
 * steps is stale.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Scenario } from "./format.js";

export interface Variant {
  /** The kernel release it was recorded on (`uname -r`), or a word for one whose release was not recorded. */
  readonly kernel: string;
  /** The hash of the steps it was recorded for. */
  readonly steps: string;
  /** What POSIX and mainline's source give: the trace blinkd must print when kernels differ. */
  readonly mainline: boolean;
  readonly note: string;
  readonly lines: readonly string[];
}

/** Where a scenario's Linux trace is kept: beside it, `.linux` for `.scenario`. */
export const traceFileOf = (scenarioFile: string): string => scenarioFile.replace(/\.scenario$/, "") + ".linux";

/** The kernel this machine runs, as a variant names it. */
export const thisKernel = (): string => os.release();

/** A short hash of the scenario's steps as written (comments and headers left out). */
export function stepsHash(sc: Scenario): string {
  const h = createHash("sha256");
  for (const s of sc.steps) h.update(s.text.replace(/\s+/g, " ") + (s.background ? " &" : "") + "\n");
  return h.digest("hex").slice(0, 12);
}

const HEAD = /^== linux (\S+) · steps ([0-9a-f]{12})((?: · .*)?)$/;

export class TraceFileError extends Error {}

export function parseTraces(text: string, file = "<traces>"): Variant[] {
  const out: Variant[] = [];
  let cur: { kernel: string; steps: string; mainline: boolean; note: string; lines: string[] } | undefined;
  text.split("\n").forEach((line, i) => {
    if (line.startsWith("#") || (line === "" && !cur)) return;
    if (line.startsWith("==")) {
      const m = HEAD.exec(line);
      if (!m) throw new TraceFileError(`${file}:${i + 1}: expected "== linux RELEASE · steps HASH[ · mainline][ · NOTE]", got ${JSON.stringify(line)}`);
      const rest = m[3]!.split(" · ").slice(1);
      const mainline = rest[0] === "mainline";
      out.push((cur = { kernel: m[1]!, steps: m[2]!, mainline, note: rest.slice(mainline ? 1 : 0).join(" · "), lines: [] }));
      return;
    }
    if (!cur) throw new TraceFileError(`${file}:${i + 1}: a trace line before the first "== linux …" header`);
    if (line !== "") cur.lines.push(line);
  });
  return out;
}

export function formatTraces(scenarioFile: string, variants: readonly Variant[]): string {
  const name = path.basename(scenarioFile);
  const head = [
    `# The Linux trace of ${name}: what it prints as PID 1 of a real PID namespace (spec/scenarios.md).`,
    "# `sudo npm run traces` records it; the suite compares blinkd with it.",
  ];
  const body = variants.flatMap((v) => [
    `== linux ${v.kernel} · steps ${v.steps}${v.mainline ? " · mainline" : ""}${v.note ? ` · ${v.note}` : ""}`,
    ...v.lines,
  ]);
  return [...head, ...body].join("\n") + "\n";
}

/** The stored variants of a scenario's Linux trace, or undefined when it has none. */
export function readTraces(scenarioFile: string): Variant[] | undefined {
  const f = traceFileOf(scenarioFile);
  if (!fs.existsSync(f)) return undefined;
  return parseTraces(fs.readFileSync(f, "utf8"), f);
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((l, i) => l === b[i]);

/** What is wrong with the stored variants themselves: stale, or several without a reason and a mainline one. */
export function storedProblems(sc: Scenario, variants: readonly Variant[] | undefined): string[] {
  const f = traceFileOf(sc.file);
  if (!variants || variants.length === 0) return [`${f}: no stored Linux trace; record it as root with \`npm run traces\``];
  const problems: string[] = [];
  const hash = stepsHash(sc);
  for (const v of variants)
    if (v.steps !== hash) problems.push(`${f}: the trace of kernel ${v.kernel} was recorded for other steps (${v.steps}, now ${hash}); record it again as root with \`npm run traces\``);
  if (variants.length > 1) {
    if (!sc.varies) problems.push(`${f}: ${variants.length} traces, but ${sc.file} has no \`varies:\` header saying where kernels differ`);
    const main = variants.filter((v) => v.mainline).length;
    if (main !== 1) problems.push(`${f}: ${variants.length} traces need exactly one marked \`mainline\` (what blinkd must print), found ${main}`);
  }
  return problems;
}

/** The trace blinkd must print: the only one, or the `mainline` one of several. */
export function expectedVariant(variants: readonly Variant[]): Variant | undefined {
  return variants.length === 1 ? variants[0] : variants.find((v) => v.mainline);
}

/** The stored variant equal to a trace Linux printed, if any. */
export function matchingVariant(variants: readonly Variant[] | undefined, lines: readonly string[]): Variant | undefined {
  return variants?.find((v) => same(v.lines, lines));
}

export { same as sameLines };

/**
 * Records Linux's trace on this kernel (`blinkd script --record`): kept when a stored variant
 * for these steps already says the same; otherwise it becomes the only trace, or, for a
 * scenario whose kernels differ (`varies:`), it replaces this kernel's variant or joins the
 * others. Returns the new variants and what was done, in words.
 */
export function recordVariant(sc: Scenario, stored: readonly Variant[] | undefined, lines: readonly string[], kernel = thisKernel()): { variants: Variant[]; did: string } {
  const steps = stepsHash(sc);
  const old = stored ?? [];
  const equal = old.find((v) => v.steps === steps && same(v.lines, lines));
  if (equal) return { variants: [...old], did: `unchanged (as recorded on ${equal.kernel})` };
  if (!sc.varies) {
    const was = old.length === 1 && old[0]!.steps === steps && old[0]!.kernel !== kernel ? old[0] : undefined;
    const fresh: Variant = { kernel, steps, mainline: false, note: "", lines: [...lines] };
    return {
      variants: [fresh],
      did: was
        ? `replaced the trace recorded on ${was.kernel} for the same steps: if the scenario's output did not change, this kernel differs (spec/scenarios.md, "Kernels that differ")`
        : old.length
          ? "rewritten"
          : "written",
    };
  }
  const mine = old.findIndex((v) => v.kernel === kernel);
  const fresh: Variant = { kernel, steps, mainline: mine >= 0 && old[mine]!.mainline, note: mine >= 0 ? old[mine]!.note : "", lines: [...lines] };
  if (mine >= 0) return { variants: old.map((v, i) => (i === mine ? fresh : v)), did: `replaced the trace of kernel ${kernel}` };
  return { variants: [...old, fresh], did: `added a trace for kernel ${kernel} beside ${old.length} other(s): say in spec/signals.md what differs, and mark the mainline one` };
}

export function writeTraces(sc: Scenario, variants: readonly Variant[]): void {
  fs.writeFileSync(traceFileOf(sc.file), formatTraces(sc.file, variants));
}
