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

/**
 * Issue 18's rule for a goal a run misses: the run prints what is left of the gap and why it
 * cannot go with the present design, from figures measured in the same run, and names the
 * next design step. One per goal row (by its metric); printed under the table when that row
 * misses its goal (in --quick too, marked as not judged).
 */
export interface Left {
  readonly metric: string;
  /** The gap taken apart, each part a measured figure of this run. */
  readonly parts: string[];
  /** Why the goal is missed, and whether it can be met as things are, from those figures. */
  readonly why: string;
  readonly next: string;
}

export interface Result {
  readonly name: string;
  readonly title: string;
  readonly rows: Row[];
  readonly notes: string[];
  readonly raw: Record<string, unknown>;
  readonly left?: Left[];
}

export const us = (ns: number): string => `${(ns / 1000).toFixed(1)} µs`;
export const perS = (n: number): string => `${Math.round(n).toLocaleString("en-US")}/s`;
export const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;
export const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "—" : `${r.toFixed(2)}×`;
}

export function printTable(r: Result, quick: boolean): void {
  process.stdout.write(formatTable(r, quick));
}

/** The table, its notes and what is left of each missed goal, as printed. */
export function formatTable(r: Result, quick: boolean): string {
  const head = ["metric", "baseline", "blinkd", "ratio", "goal", quick ? "" : "met"];
  const lines = r.rows.map((x) => [x.metric, x.baseline, x.blinkd, fmtRatio(x.ratio), x.goal, quick || x.met === undefined ? "" : x.met ? "yes" : "NO"]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [`\n== ${r.title}`, fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt), ...r.notes.map((n) => `   ${n}`)];
  for (const l of missedLeft(r)) {
    out.push(`   -- what is left of "${l.metric}"${quick ? " (--quick: sizes too small to judge; the shape of the report)" : ""}:`);
    out.push(...l.parts.map((p) => `      · ${p}`), `      why it is missed: ${l.why}`, `      next design step: ${l.next}`);
  }
  return out.join("\n") + "\n";
}

/** The left-of-the-gap reports of the rows that missed their goal. */
export function missedLeft(r: Result): Left[] {
  return (r.left ?? []).filter((l) => r.rows.some((x) => x.metric === l.metric && x.met === false));
}

/** A goal row that misses and has no report of what is left breaks issue 18's rule: the run says so. */
export function unexplained(r: Result): string[] {
  return r.rows.filter((x) => x.met === false && !(r.left ?? []).some((l) => l.metric === x.metric)).map((x) => x.metric);
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
