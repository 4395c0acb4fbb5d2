/**
 * The Node.js flags on a command's `#!` line (bin/blinkd.js: `#!/usr/bin/env -S node FLAG…`).
 * V8 reads heap flags such as `--max-semi-space-size` only as the process starts
 * (`v8.setFlagsFromString` of it does nothing afterwards), so whoever starts the command as
 * `node bin/blinkd.js` (the benches, the spec helpers) passes these to run the daemon as the
 * `blinkd` command runs.
 */
import * as fs from "node:fs";

export function shebangNodeFlags(bin: string): string[] {
  const first = fs.readFileSync(bin, "utf8").split("\n", 1)[0]!;
  const m = /^#!\S*env -S node((?: --\S+)*)\s*$/.exec(first);
  return m ? m[1]!.split(" ").filter(Boolean) : [];
}
