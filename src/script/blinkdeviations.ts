/**
 * The scenarios that differ in blink for a reason of blink's, as spec/blink.md lists them
 * under "Scenarios that differ in blink": a `### NAME` heading (the scenario's file name
 * without `.scenario`), the reason, and a ```diff block holding exactly the lines that
 * differ (`- ` Linux's, `+ ` blink's, in diffLines' order). `blinkd script --compare --blink`
 * and the suite (spec/blink.scenarios.test.ts) require blink's difference to be that one
 * (verdict.ts, judgeBlink): a deviation that goes away or changes fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./files.js";

export interface BlinkDeviation {
  readonly name: string;
  readonly reason: string;
  /** The `- ` and `+ ` lines, in order. */
  readonly diff: readonly string[];
}

const HEADING = "## Scenarios that differ in blink";

/** spec/blink.md's list; an empty one where the checkout has no spec/ (an installed package). */
export function blinkDeviations(file = path.join(ROOT, "spec/blink.md")): Map<string, BlinkDeviation> {
  if (!fs.existsSync(file)) return new Map();
  const text = fs.readFileSync(file, "utf8");
  const at = text.indexOf(`\n${HEADING}\n`);
  if (at < 0) throw new Error(`${file} has no "${HEADING}" section`);
  const rest = text.slice(at + HEADING.length + 2);
  const section = rest.split(/\n## /)[0]!;
  const out = new Map<string, BlinkDeviation>();
  for (const part of section.split(/^### /m).slice(1)) {
    const name = part.slice(0, part.indexOf("\n")).trim().replace(/`/g, "");
    const block = /```diff\n([\s\S]*?)```/.exec(part);
    if (!block) throw new Error(`${file}: the deviation ${name} has no \`\`\`diff block`);
    const reason = part.slice(part.indexOf("\n") + 1, block.index).trim().replace(/\s+/g, " ");
    if (!reason) throw new Error(`${file}: the deviation ${name} gives no reason`);
    out.set(name, { name, reason, diff: block[1]!.split("\n").filter((l) => l.startsWith("- ") || l.startsWith("+ ")) });
  }
  return out;
}

/** The `- ` and `+ ` lines of a diffLines() text. */
export const changedLines = (diff: string): string[] => diff.split("\n").filter((l) => l.startsWith("- ") || l.startsWith("+ "));
