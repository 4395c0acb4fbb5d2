/**
 * Reading a scenario file (spec/scenarios.md describes the format):
 *
 *   # comment                      anywhere; also after a step
 *   title: what the scenario shows
 *   note: anything worth saying (any number of lines)
 *   deviation: why blinkd cannot match Linux here (the traces may then differ)
 *   varies: where Linux kernels differ here (the stored Linux trace then has a variant per kernel)
 *   root: why the scenario means something only as root (without root it is skipped, and says so)
 *   needs: CALL …                  protocol calls the blinkd side must have
 *   NAME: STEP ARGS… [&]           process NAME takes a step; "&" runs it in the background
 *
 * The first process is `init` (PID 1); every other name is made by a `fork NAME` step.
 * Steps run one at a time in file order, so the trace is deterministic.
 */
import { STEPS, PROCESS_NAME, type Parsed } from "./steps/index.js";

export interface Step {
  readonly line: number;
  readonly actor: string;
  readonly op: string;
  readonly text: string;
  readonly parsed: Parsed;
  readonly background: boolean;
}

export interface Scenario {
  readonly file: string;
  readonly title: string;
  readonly notes: readonly string[];
  readonly deviation: string | undefined;
  /** Where Linux kernels differ in this scenario (spec/scenarios.md, "Kernels that differ"). */
  readonly varies: string | undefined;
  /** Why the scenario needs root (setresuid to other users): without root neither side runs (skipped, said). */
  readonly root: string | undefined;
  readonly needs: readonly string[];
  readonly steps: readonly Step[];
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = "ScenarioError";
  }
}

const HEADERS = new Set(["title", "note", "deviation", "varies", "root", "needs"]);

export function parseScenario(text: string, file = "<scenario>"): Scenario {
  let title = "";
  const notes: string[] = [];
  let deviation: string | undefined;
  let varies: string | undefined;
  let root: string | undefined;
  const needs: string[] = [];
  const steps: Step[] = [];
  const known = new Set(["init"]);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!;
    const hash = raw.indexOf("#");
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line);
    if (!m) throw new ScenarioError(file, n, `expected "NAME: STEP …" or a header (title:, note:, deviation:, varies:, root:, needs:), got ${JSON.stringify(line)}`);
    const [, head, rest] = m as unknown as [string, string, string];
    if (HEADERS.has(head)) {
      const value = raw.slice(raw.indexOf(":") + 1).trim(); // headers keep their # characters
      if (head === "title") title = value;
      else if (head === "note") notes.push(value);
      else if (head === "deviation") deviation = (deviation ? deviation + " " : "") + value;
      else if (head === "varies") varies = (varies ? varies + " " : "") + value;
      else if (head === "root") root = (root ? root + " " : "") + value;
      else needs.push(...value.split(/\s+/).filter(Boolean));
      continue;
    }
    if (!PROCESS_NAME.test(head)) throw new ScenarioError(file, n, `a process name is lower case letters, digits and _, got ${JSON.stringify(head)}`);
    if (!known.has(head)) throw new ScenarioError(file, n, `no process called ${head} yet: processes are made by "fork ${head}" in an earlier step (the first one is init)`);
    const words = rest.split(/\s+/).filter(Boolean);
    let background = false;
    if (words[words.length - 1] === "&") {
      background = true;
      words.pop();
    }
    const op = words.shift();
    if (!op) throw new ScenarioError(file, n, `${head}: which step? (${Object.keys(STEPS).join(", ")})`);
    const def = STEPS[op];
    if (!def) throw new ScenarioError(file, n, `unknown step ${JSON.stringify(op)}; the steps are ${Object.keys(STEPS).join(", ")}`);
    const parsed = def.parse(words);
    if (typeof parsed === "string") throw new ScenarioError(file, n, `${op}: ${parsed}`);
    if (background && parsed.syscall === undefined) throw new ScenarioError(file, n, `${op} cannot run in the background ("&"): only a step that may block can`);
    if (parsed.creates) {
      if (known.has(parsed.creates)) throw new ScenarioError(file, n, `there is already a process called ${parsed.creates}`);
      known.add(parsed.creates);
    }
    for (const c of parsed.needs ?? []) if (!needs.includes(c)) needs.push(c);
    steps.push({ line: n, actor: head, op, text: `${head}: ${rest.trim()}`, parsed, background });
  }
  if (steps.length === 0) throw new ScenarioError(file, 1, "no steps: a scenario needs at least one line like `init: fork a`");
  return { file, title: title || file, notes, deviation, varies, root, needs, steps };
}
