/**
 * Issue 18's rule for the benchmarks: a goal a run misses is printed with what is left of its
 * gap (bench/lib/report.ts `Left`), and a missed goal without one is named by the run.
 */
import { describe, expect, it } from "vitest";
import { formatTable, missedLeft, unexplained, type Result } from "../../bench/lib/report.js";

const result = (met: [boolean | undefined, boolean | undefined]): Result => ({
  name: "t",
  title: "two goals",
  rows: [
    { metric: "a", baseline: "1", blinkd: "2", ratio: 2, goal: "≤ 1.5×", met: met[0] },
    { metric: "b", baseline: "1", blinkd: "3", ratio: 3, goal: "≤ 1.5×", met: met[1] },
  ],
  notes: [],
  raw: {},
  left: [{ metric: "a", parts: ["the floor 1.9×"], why: "the floor is over the goal", next: "fewer waits" }],
});

const printed = formatTable;

describe("what is left of a missed goal", () => {
  it("is printed under the table for a missed row, with its parts, why and next step", () => {
    const out = printed(result([false, true]), false);
    expect(out).toContain('-- what is left of "a":');
    expect(out).toContain("· the floor 1.9×");
    expect(out).toContain("why it is missed: the floor is over the goal");
    expect(out).toContain("next design step: fewer waits");
  });

  it("is not printed for a met row or a row that only reports", () => {
    expect(printed(result([true, true]), false)).not.toContain("what is left");
    expect(printed(result([undefined, true]), false)).not.toContain("what is left");
    expect(missedLeft(result([true, false]))).toEqual([]);
  });

  it("says in --quick that the sizes judge nothing", () => {
    expect(printed(result([false, true]), true)).toContain('what is left of "a" (--quick: sizes too small to judge');
  });

  it("names a missed goal that has no report of what is left", () => {
    expect(unexplained(result([false, false]))).toEqual(["b"]);
    expect(unexplained(result([false, true]))).toEqual([]);
  });
});
