/**
 * The generated parts of spec/protocol.md: the table of every call and a byte-level
 * example of a real `hello`, both made from the schema so that the document cannot drift
 * from the code (spec/core.codec.test.ts fails when they differ).
 *
 *   npm run build && node dist/src/protocol/doctable.js --write spec/protocol.md
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { PROTOCOL_VERSION, callByName, table } from "./index.js";
import { frame } from "./frame.js";
import { requestMessage } from "./messages.js";
import { events } from "./events.js";

const fields = (f: Readonly<Record<string, string>>): string => {
  const e = Object.entries(f);
  return e.length ? e.map(([n, t]) => `${n}: ${t}`).join(", ") : "—";
};

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** One markdown row per call, by number. */
export function callTable(): string {
  const rows = [
    "| nr | call | family | arguments | out (after result >= 0) | blocks | role | what it does |",
    "| ---: | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of [...table.byNr.values()].sort((a, b) => a.nr - b.nr))
    rows.push(`| ${c.nr} | \`${c.name}\` | ${c.family} | ${cell(fields(c.args))} | ${cell(fields(c.out))} | ${c.blocks ? "yes" : "no"} | ${c.role} | ${cell(c.doc)} |`);
  return rows.join("\n");
}

/** One markdown row per daemon event (§4.4), by number. */
export function eventTable(): string {
  const rows = ["| event | layout | meaning |", "| ---: | --- | --- |"];
  for (const [name, e] of Object.entries(events).sort((a, b) => a[1].nr - b[1].nr)) {
    const f = Object.entries(e.fields).map(([n, t]) => `, ${n}: ${t}`).join("");
    rows.push(`| ${e.nr} | \`[3, ${e.nr}${f}]\` ${name} | ${cell(e.doc)} |`);
  }
  return rows.join("\n");
}

function hex(b: Buffer): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 16)
    lines.push(
      `${i.toString(16).padStart(4, "0")}  ${[...b.subarray(i, i + 16)].map((x) => x.toString(16).padStart(2, "0")).join(" ")}`,
    );
  return lines.join("\n");
}

/** A real hello request frame for this schema, in hex, with its parts named. */
export function helloExample(): string {
  const msg = requestMessage(1, callByName("hello"), { version: PROTOCOL_VERSION, role: "guest", client: "example" });
  const f = frame(msg);
  return [
    "```",
    `# hello(version="${PROTOCOL_VERSION}", role="guest", client="example") as request seq 1:`,
    `# [0, 1, 0, "${PROTOCOL_VERSION}", "guest", "example"]`,
    hex(f),
    "```",
    "",
    `Byte by byte: \`${f.subarray(0, 4).toString("hex")}\` is the body length (${f.length - 4}); \`96\` a fixarray of 6;`,
    "`00` kind 0 (request); `01` seq 1; `00` call number 0 (`hello`);",
    `\`b0\` a fixstr of 16 bytes, the version hash; \`a5\` "guest"; \`a7\` "example".`,
  ].join("\n");
}

const regions: Record<string, () => string> = { calls: callTable, events: eventTable, hello: helloExample };

/** Replaces every `<!-- BEGIN GENERATED: x -->…<!-- END GENERATED: x -->` region with what the schema says. */
export function regenerate(doc: string): string {
  let out = doc;
  for (const [name, make] of Object.entries(regions)) {
    const re = new RegExp(`(<!-- BEGIN GENERATED: ${name} -->\\n)[\\s\\S]*?(<!-- END GENERATED: ${name} -->)`);
    if (!re.test(out)) throw new Error(`protocol.md has no generated region "${name}"`);
    out = out.replace(re, (_m, a: string, b: string) => a + make() + "\n" + b);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const i = process.argv.indexOf("--write");
  const file = i > 0 ? process.argv[i + 1] : undefined;
  if (!file) {
    process.stdout.write(callTable() + "\n\n" + helloExample() + "\n");
  } else {
    fs.writeFileSync(file, regenerate(fs.readFileSync(file, "utf8")));
    process.stdout.write(`regenerated the call table and the hello example in ${file}\n`);
  }
}
