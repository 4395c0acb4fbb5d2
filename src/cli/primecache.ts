/**
 * The build's last step (package.json "build"): a `blinkd run -- /bin/true` in a scratch
 * prefix, with bin/blinkd.js's Node.js flags, that writes V8's code cache of the command's
 * bundle at its exit (codecache.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { CACHE, WRITE } from "./codecache.js";
import { shebangNodeFlags } from "./nodeflags.js";

const bin = path.resolve(import.meta.dirname, "../../../bin/blinkd.js");
const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-codecache-"));
try {
  fs.rmSync(CACHE, { force: true });
  const r = spawnSync(process.execPath, [...shebangNodeFlags(bin), bin, "run", "--prefix", prefix, "--", "/bin/true"], { env: { ...process.env, [WRITE]: "1" }, stdio: "inherit" });
  // Without the cache the command compiles its bundle at each start, as before: slower, not
  // wrong, so the build says so and goes on (a `blinkd run` that fails here fails the tests too).
  if (r.status !== 0 || !fs.existsSync(CACHE)) {
    fs.rmSync(CACHE, { force: true });
    process.stderr.write(`build: no code cache for the blinkd command: the priming run (blinkd run -- /bin/true) ended ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ""}; each command compiles its bundle at start instead\n`);
  }
} finally {
  fs.rmSync(prefix, { recursive: true, force: true });
}
