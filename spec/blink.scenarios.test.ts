// Every scenario in spec/scenarios/ runs with its processes in the patched blink: the C agent
// the Linux side runs (src/script/linux-agent.c), as guests of a fresh namespace
// (`blinkd script --compare --blink`), compared with Linux (as root) or with the stored Linux
// trace. A scenario that differs for a reason of blink's is listed in spec/blink.md
// ("Scenarios that differ in blink") with the exact lines that differ, which the test
// requires: a deviation that goes away or changes fails, so that the list stays true.
import { beforeAll, expect, it } from "vitest";
import * as path from "node:path";
import { describeBlink } from "./helpers/blink.js";
import { blinkDeviations } from "../src/script/blinkdeviations.js";
import { ROOT } from "./helpers/daemon.js";
import { bothSidesRan, compareScenarios, scenarioFiles, type Compared } from "./helpers/script.js";
import { readTraces } from "../src/script/traces.js";
import { diffLines, judgeBlink } from "../src/script/verdict.js";

const files = scenarioFiles();
const deviations = blinkDeviations();
const results = new Map<string, Compared>();
const nameOf = (file: string): string => path.basename(file, ".scenario");

describeBlink("scenarios in blink: the C agent's trace in blink is Linux's", () => {
  beforeAll(async () => {
    // Two CLI processes, one per core, each running half of the scenarios one after another.
    const t0 = Date.now();
    const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)].filter((h) => h.length);
    for (const batch of await Promise.all(halves.map((h) => compareScenarios(h, { blink: true })))) for (const c of batch) results.set(c.file, c);
    process.stderr.write(`scenarios in blink: ${files.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }, 1_200_000);

  it("every deviation listed in spec/blink.md names a scenario", () => {
    const names = new Set(files.map(nameOf));
    expect([...deviations.keys()].filter((n) => !names.has(n))).toEqual([]);
  });

  for (const file of files) {
    it(file, (ctx) => {
      const ran = bothSidesRan(ctx, results.get(file), file, "blink");
      if (!ran) return;
      const { sc, linux, ours: blink } = ran;
      // blinkd's own deviations (a `deviation:` header) are the Node.js agents'; blink is held to
      // Linux but for spec/blink.md's list, exactly (judgeBlink, as `blinkd script --compare --blink`).
      const dev = deviations.get(nameOf(file));
      const v = judgeBlink(sc, dev, readTraces(path.join(ROOT, file)), linux.lines, blink.lines!, true);
      expect(v.problems, v.problems.join("\n")).toEqual([]);
      expect(v.against, `${file}: no Linux trace to compare with`).toBeDefined();
      if (dev) console.warn(`${file}: known deviation in blink (${dev.reason}):\n${diffLines(v.against!.lines, blink.lines!, "linux", "blink")}`);
    });
  }
});
