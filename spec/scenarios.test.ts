// Every scenario in spec/scenarios/ runs on real Linux (a fresh PID namespace, as root) and
// on blinkd (a fresh namespace of Node.js guests); the traces must be identical, PIDs
// included. Without root the Linux side is skipped, loudly, and the blinkd side must still
// run to its end.
import { beforeAll, describe, expect, it } from "vitest";
import { compareScenarios, scenarioFiles, type Compared } from "./helpers/script.js";
import { diffLines } from "../src/cli/script.js";

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
      const c = results.get(file);
      expect(c, `${file} produced no result`).toBeDefined();
      const { linux, blinkd } = c!;
      expect(blinkd.error, `blinkd side of ${file}`).toBeUndefined();
      expect(blinkd.skipped, `blinkd side of ${file}`).toBeUndefined();
      if (linux.skipped) {
        console.warn(`SKIPPED the Linux side of ${file}: ${linux.skipped}`);
        ctx.annotate?.(`Linux side skipped: ${linux.skipped}`);
        return;
      }
      expect(linux.error, `Linux side of ${file}`).toBeUndefined();
      const same = linux.lines!.join("\n") === blinkd.lines!.join("\n");
      if (linux.deviation) {
        console.warn(`${file}: known deviation (${linux.deviation}):\n${diffLines(linux.lines!, blinkd.lines!)}`);
        expect(same, `${file} now matches Linux: remove its deviation: line`).toBe(false);
        return;
      }
      expect(same, `${file}: the traces differ\n${diffLines(linux.lines!, blinkd.lines!)}`).toBe(true);
    });
  }
});
