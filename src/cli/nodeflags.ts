/**
 * What a command's `#!` line gives the process it starts (bin/blinkd.js:
 * `#!/usr/bin/env -S NAME=VALUE… node FLAG…`): environment settings and Node.js flags that
 * only take effect as a process starts. V8 reads heap flags such as `--max-semi-space-size`
 * only then (`v8.setFlagsFromString` of it does nothing afterwards), and glibc's malloc reads
 * `MALLOC_TRIM_THRESHOLD_` only then (Node.js has no mallopt). Whoever starts the command as
 * `node bin/blinkd.js` (the benches, the spec helpers) passes these to run the daemon as the
 * `blinkd` command runs.
 */
import * as fs from "node:fs";

const LINE = /^#!\S*env -S((?: [A-Za-z_][A-Za-z0-9_]*=\S*)*) node((?: --\S+)*)\s*$/;

function shebang(bin: string): RegExpExecArray | null {
  return LINE.exec(fs.readFileSync(bin, "utf8").split("\n", 1)[0]!);
}

export function shebangNodeFlags(bin: string): string[] {
  const m = shebang(bin);
  return m ? m[2]!.split(" ").filter(Boolean) : [];
}

/** The line's NAME=VALUE settings, each `${NAME}` in a value read from env, as env -S expands it (unset: empty). */
export function shebangEnv(bin: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const m = shebang(bin);
  const out: Record<string, string> = {};
  for (const a of m ? m[1]!.split(" ").filter(Boolean) : []) {
    const i = a.indexOf("=");
    out[a.slice(0, i)] = a.slice(i + 1).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => env[n] ?? "");
  }
  return out;
}
