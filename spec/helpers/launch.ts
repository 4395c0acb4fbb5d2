/**
 * Where a program runs as PID 1 for tests that compare: a real PID namespace
 * (`unshare --pid --fork --mount-proc`, as root), `blinkd run` (a native program through the
 * preload library), or `blinkd run --blink-path` (the program in the patched blink).
 */
import * as path from "node:path";
import { NODE_BIN, ROOT } from "./daemon.js";

export type Where = "linux" | "blinkd" | "blink";

/** dist/blink/blink (spec/helpers/blink.ts says whether it is there). */
const BLINK = path.join(ROOT, "dist/blink/blink");

/** The argv that runs cmd as PID 1 there (prefix: blinkd's, when the test reads it). */
export function asInitArgv(where: Where, cmd: readonly string[], prefix?: string): string[] {
  const pre = prefix ? ["--prefix", prefix] : [];
  if (where === "linux") return ["unshare", "--pid", "--fork", "--mount-proc", ...cmd];
  if (where === "blink") return [process.execPath, ...NODE_BIN, "run", ...pre, "--blink-path", BLINK, "--", ...cmd];
  return [process.execPath, ...NODE_BIN, "run", ...pre, "--", ...cmd];
}
