/**
 * Where Linux kernels differ (spec/signals.md §8.1), on the kernel this suite runs on: a C
 * program (spec/linux/orphaned_hup.c, no root needed) shows which members of an orphaned
 * process group with a stopped member get the kernel's SIGHUP. Its output must be one of the
 * variants the suite knows, so that a new kernel behaviour is seen and written down; which
 * one this kernel gives is printed. blinkd itself follows mainline: the scenario
 * spec/scenarios/orphaned-pgrp-stopped.scenario holds it to mainline's trace on every kernel.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/daemon.js";

const common = ["after kill(-pgid, SIGHUP): c (stopped): handled SIGHUP", "after kill(-pgid, SIGHUP): d (running): handled SIGHUP", "after kill(-pgid, SIGHUP): e (running, SIGHUP blocked): handled, SIGHUP pending"];
const KNOWN: Record<string, string[]> = {
  // kill_orphaned_pgrp: __kill_pgrp_info(SIGHUP, SEND_SIG_PRIV, pgrp), then SIGCONT, to every member.
  "mainline (POSIX; an earlier kernel of this workplace)": ["c (stopped): handled SIGHUP SIGCONT", "d (running): handled SIGHUP SIGCONT", "e (running, SIGHUP blocked): handled SIGCONT, SIGHUP pending", ...common],
  // Seen on 6.18.44-fc-v1272 (2026-12-06): the SIGHUP reaches the stopped member alone, not even pending in the others.
  "6.18.44: SIGHUP to the stopped members only": ["c (stopped): handled SIGHUP SIGCONT", "d (running): handled SIGCONT", "e (running, SIGHUP blocked): handled SIGCONT, SIGHUP not pending", ...common],
};

describe("kernel variants (spec/signals.md §8.1)", () => {
  it("an orphaned group with a stopped member: this kernel's SIGHUP is one of the known variants", () => {
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-orphup-")), "orphaned_hup");
    execFileSync("cc", ["-O1", "-Wall", "-o", bin, path.join(ROOT, "spec/linux/orphaned_hup.c")]);
    const lines = execFileSync(bin, { encoding: "utf8", timeout: 20_000 }).trim().split("\n");
    const which = Object.entries(KNOWN).find(([, v]) => v.join("\n") === lines.join("\n"))?.[0];
    console.warn(`kernel ${os.release()}: orphaned group's SIGHUP: ${which ?? "a variant the suite does not know"}`);
    expect(which, `kernel ${os.release()} printed:\n${lines.join("\n")}\nwhich is none of the known variants: write it down in spec/signals.md §8.1 and here`).toBeDefined();
  });
});
