/**
 * Tests of guests that run in blink: the blink `npm run build:blink` made from the patch
 * series (clients/blink/), and a visible reason when there is none. `npm test` builds it
 * first whenever blink's source is there (clients/blink/build.mjs --if-source); without a
 * source, every blink suite is skipped with the reason in its name, never silently.
 */
import { describe } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./daemon.js";

export const BLINK = path.join(ROOT, "dist/blink/blink"); // as spec/helpers/launch.ts runs it

/** Why the blink suites cannot run here, or null when they can. */
export const blinkMissing: string | null = (() => {
  try {
    fs.accessSync(BLINK, fs.constants.X_OK);
    return null;
  } catch {
    return "no dist/blink/blink: blink's source was not found (see clients/blink/README.md)";
  }
})();

let warned = false;

/** describe() that runs only with a built blink, and says why in its name when it cannot. */
export function describeBlink(name: string, fn: () => void): void {
  if (blinkMissing && !warned) {
    warned = true;
    process.stderr.write(`blink suites skipped: ${blinkMissing}\n`);
  }
  if (blinkMissing) describe.skip(`${name} [skipped: ${blinkMissing}]`, fn);
  else describe(name, fn);
}

/** `blinkd run --blink-path BLINK --` (argv before the guest command). */
export function inBlink(extra: string[] = []): string[] {
  return ["run", ...extra, "--blink-path", BLINK, "--"];
}
