/**
 * Runs scenario files (spec/scenarios/*.scenario) on both sides through the real CLI,
 * `blinkd script --compare --json`, and gives each scenario's two traces and their diff.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, ROOT } from "./daemon.js";

export const SCENARIO_DIR = path.join(ROOT, "spec/scenarios");

export interface SideResult {
  file: string;
  title: string;
  side: "blinkd" | "linux";
  lines?: string[];
  status?: number;
  skipped?: string;
  error?: string;
  deviation?: string;
}

export interface Compared {
  readonly file: string;
  readonly linux: SideResult;
  readonly blinkd: SideResult;
}

export function scenarioFiles(): string[] {
  return fs
    .readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith(".scenario"))
    .sort()
    .map((f) => path.join("spec/scenarios", f));
}

/** Runs `blinkd script --compare --json` over the files; one result pair per file. */
export function compareScenarios(files: string[], timeoutMs = 600_000): Promise<Compared[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, "script", "--compare", "--json", ...files], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("exit", () => {
      clearTimeout(t);
      let results: SideResult[];
      try {
        results = JSON.parse(out) as SideResult[];
      } catch {
        return reject(new Error(`blinkd script printed no JSON:\n${out}\n${err}`));
      }
      const by = new Map<string, Partial<Compared>>();
      for (const r of results) by.set(r.file, { ...by.get(r.file), file: r.file, [r.side]: r });
      resolve([...by.values()] as Compared[]);
    });
  });
}
