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
  if (r.status !== 0 || !fs.existsSync(CACHE)) throw new Error(`the priming run (blinkd run -- /bin/true) ended ${r.status ?? r.signal} without a code cache`);
} finally {
  fs.rmSync(prefix, { recursive: true, force: true });
}
