/** Each benchmark's table (baseline, blinkd, ratio, goal) on stdout and its JSON under bench/results/. */
import * as fs from "node:fs";
import * as path from "node:path";
import { RESULTS } from "./procs.js";

export interface Row {
  readonly metric: string;
  readonly baseline: string;
  readonly blinkd: string;
  /** blinkd ÷ baseline, in the direction the goal states. */
  readonly ratio: number | undefined;
  readonly goal: string;
  /** Whether the goal is met; undefined where the row only reports. Never judged in --quick. */
  readonly met: boolean | undefined;
}

export interface Result {
  readonly name: string;
  readonly title: string;
  readonly rows: Row[];
  readonly notes: string[];
  readonly raw: Record<string, unknown>;
}

export const us = (ns: number): string => `${(ns / 1000).toFixed(1)} µs`;
export const perS = (n: number): string => `${Math.round(n).toLocaleString("en-US")}/s`;
export const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;
export const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "—" : `${r.toFixed(2)}×`;
}

export function printTable(r: Result, quick: boolean): void {
  const head = ["metric", "baseline", "blinkd", "ratio", "goal", quick ? "" : "met"];
  const lines = r.rows.map((x) => [x.metric, x.baseline, x.blinkd, fmtRatio(x.ratio), x.goal, quick || x.met === undefined ? "" : x.met ? "yes" : "NO"]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [`\n== ${r.title}`, fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt), ...r.notes.map((n) => `   ${n}`)];
  process.stdout.write(out.join("\n") + "\n");
}

export function writeJson(r: Result, quick: boolean): string {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${r.name}${quick ? ".quick" : ""}.json`);
  const load = fs.readFileSync("/proc/loadavg", "utf8").trim();
  fs.writeFileSync(file, JSON.stringify({ ...r, quick, date: new Date().toISOString(), node: process.version, loadavg: load }, null, 2) + "\n");
  return file;
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
