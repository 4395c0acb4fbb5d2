/**
 * Guests that run in blink (`blinkd run --blink`): where the patched blink is (built by
 * `npm run build:blink` from clients/blink/), and the command and environment that start a
 * program in it as a guest of the namespace.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PRELOAD_LIBRARY } from "./preload.js";

/** dist/blink/blink, next to this module's dist/src/native/. */
export const BLINK_BINARY = path.resolve(import.meta.dirname, "../../blink/blink");

/** The blink to use: --blink-path, else $BLINKD_BLINK, else the one `npm run build:blink` made. */
export function blinkPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? (env.BLINKD_BLINK || BLINK_BINARY);
}

/** Why this blink cannot run guests, or null when it can. */
export function blinkMissing(blink: string): string | null {
  try {
    fs.accessSync(blink, fs.constants.X_OK);
    return null;
  } catch {
    return blink === BLINK_BINARY
      ? `no blink at ${blink}: build it with \`npm run build:blink\` (it needs blink's source: see clients/blink/README.md)`
      : `no executable blink at ${blink}`;
  }
}

/**
 * The environment of a program started in blink: never the preload library (blink is a host
 * program; a guest's LD_PRELOAD would be loaded into the emulated program) and never
 * BLINK_PREFIX, which is the root of blink's file system, not blinkd's directory.
 */
export function blinkEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out.BLINK_PREFIX;
  const rest = (env.LD_PRELOAD ?? "").split(/[: ]/).filter((x) => x && x !== PRELOAD_LIBRARY);
  if (rest.length) out.LD_PRELOAD = rest.join(":");
  else delete out.LD_PRELOAD;
  return out;
}
