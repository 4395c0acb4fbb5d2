// judgeBlink, which `blinkd script --compare --blink` and spec/blink.scenarios.test.ts share:
// blink is held to Linux's trace, but for a deviation spec/blink.md lists, whose lines must be
// exactly blink's difference; the scenario's own `deviation:` header (blinkd's) is not blink's.
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/script/format.js";
import { judgeBlink } from "../../src/script/verdict.js";
import { blinkDeviations } from "../../src/script/blinkdeviations.js";

const linux = ["init: fork() = 2", "a: getppid() = 1", "end: init exited(0)"];
const differs = ["init: fork() = 2", "a: getppid() = 0", "end: init exited(0)"];
const sc = parseScenario("title: t\ndeviation: the Node.js agents' reason\ninit: fork a\na: getppid\n", "x.scenario");
const listed = { name: "x", reason: "blink's reason", diff: ["+ a: getppid() = 0", "- a: getppid() = 1"] /* diffLines order */ };

describe("judgeBlink", () => {
  it("holds blink to Linux whatever the scenario's deviation: header says", () => {
    expect(judgeBlink(sc, undefined, undefined, linux, linux, false).problems).toEqual([]);
    expect(judgeBlink(sc, undefined, undefined, linux, differs, false).problems.join("\n")).toMatch(/x\.scenario: blink's trace differs from Linux/);
  });

  it("accepts exactly the listed difference, and fails a changed or vanished one", () => {
    const v = judgeBlink(sc, listed, undefined, linux, differs, false);
    expect(v.problems).toEqual([]);
    expect(v.notes.join("\n")).toContain("known deviation (blink's reason)");
    const other = ["init: fork() = 2", "a: getppid() = 7", "end: init exited(0)"];
    expect(judgeBlink(sc, listed, undefined, linux, other, false).problems.join("\n")).toMatch(/no longer the one spec\/blink\.md lists/);
    expect(judgeBlink(sc, listed, undefined, linux, linux, false).problems.join("\n")).toMatch(/remove it from "Scenarios that differ in blink"/);
  });

  it("reads spec/blink.md's list (each entry with a reason and its lines)", () => {
    for (const d of blinkDeviations().values()) {
      expect(d.reason).not.toBe("");
      expect(d.diff.length).toBeGreaterThan(0);
    }
  });
});
