// spec/scenarios.md documents every scenario step with its usage: this fails when a step
// is added to the table (src/script/steps/) without its line in the doc.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { STEPS } from "../src/script/steps/index.js";
import { parseScenario } from "../src/script/format.js";
import { ROOT } from "./helpers/daemon.js";

const doc = fs.readFileSync(path.join(ROOT, "spec/scenarios.md"), "utf8");

describe("spec/scenarios.md", () => {
  it("has every step of the table with its usage", () => {
    const missing = Object.entries(STEPS)
      .filter(([, def]) => !doc.includes("`" + def.usage + "`"))
      .map(([word, def]) => `${word} (\`${def.usage}\`)`);
    expect(missing, "steps missing from spec/scenarios.md").toEqual([]);
  });

  it("mentions no step the table lacks", () => {
    const section = doc.slice(doc.indexOf("## Steps"), doc.indexOf("## The trace"));
    const words = [...section.matchAll(/^- `([a-z_0-9]+)[ `]/gm)].map((m) => m[1]!);
    expect(words.length).toBeGreaterThan(0);
    expect(words.filter((w) => !(w in STEPS))).toEqual([]);
  });

  it("its example scenarios parse", () => {
    const blocks = [...doc.matchAll(/```\n(title:[\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => parseScenario(b, "spec/scenarios.md")).not.toThrow();
  });
});
