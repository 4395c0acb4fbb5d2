// Every scenario in spec/scenarios/ runs on blinkd (a fresh namespace of Node.js guests) and,
// as root, on real Linux (a fresh PID namespace); blinkd's trace must be Linux's, PIDs
// included. Linux's trace is also stored beside each scenario (NAME.linux, `npm run traces`):
// as root the trace Linux prints now must be one of the stored ones (so a stale one, or a
// kernel that behaves differently, is seen), and without root blinkd is compared with the
// stored one. Where kernels differ (`varies:`), blinkd must print the mainline trace.
import { beforeAll, describe, expect, it } from "vitest";
import * as path from "node:path";
import { bothSidesRan, compareScenarios, scenarioFiles, type Compared } from "./helpers/script.js";
import { ROOT } from "./helpers/daemon.js";
import { readTraces } from "../src/script/traces.js";
import { judge } from "../src/script/verdict.js";

const files = scenarioFiles();
const results = new Map<string, Compared>();

beforeAll(async () => {
  // Two CLI processes, one per core, each running half of the scenarios one after another.
  const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)].filter((h) => h.length);
  for (const batch of await Promise.all(halves.map((h) => compareScenarios(h)))) for (const c of batch) results.set(c.file, c);
}, 1_200_000);

describe("scenarios: blinkd's trace is Linux's", () => {
  it("there are at least 40 scenarios", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  for (const file of files) {
    it(file, (ctx) => {
      const ran = bothSidesRan(ctx, results.get(file), file, "blinkd");
      if (!ran) return;
      const { sc, linux, ours: blinkd } = ran;
      const v = judge(sc, readTraces(path.join(ROOT, file)), linux.lines, blinkd.lines!, true);
      for (const n of v.notes) console.warn(`${file}: ${n}`);
      expect(v.problems, v.problems.join("\n")).toEqual([]);
      expect(v.against, `${file}: no Linux trace to compare with`).toBeDefined();
    });
  }
});
