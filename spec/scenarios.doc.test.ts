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

describe("scenario parsing errors name the line and the mistake", () => {
  const bad: [string, RegExp][] = [
    ["init: frok a", /x:1: unknown step "frok"/],
    ["init: fork a\nb: getpid", /x:2: no process called b yet/],
    ["init: getpid &", /x:1: getpid cannot run in the background/],
    ["init: fork a\na: await SIGUSR1 &", /x:2: await cannot run in the background/],
    ["init: kill 2 SIGFOO", /x:1: kill: unknown signal "SIGFOO"/],
    ["init: wait4 -1 WNOPE", /x:1: wait4: unknown flag "WNOPE"/],
    ["init: sigaction SIGTERM exit:x", /x:1: sigaction: expected SIG_DFL, SIG_IGN, handler or exit:CODE/],
    ["init: fork a\ninit: fork a", /x:2: there is already a process called a/],
    ["title: nothing", /x:1: no steps/],
  ];
  for (const [text, re] of bad)
    it(JSON.stringify(text), () => {
      expect(() => parseScenario(text, "x")).toThrow(re);
    });
});
