/** A program as PID 1 under `blinkd run` with BLINKD_TRACE=1 in a prefix of its own: the daemon's trace lines, and the state page files left behind. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { type Where, asInitArgv } from "./launch.js";

/** Runs `blinkd run -- cmd` (in blink for "blink") with BLINKD_TRACE=1 in its own prefix; the trace lines and the page files seen meanwhile. */
export function traced(cmd: string[], where: Exclude<Where, "linux"> = "blinkd"): Promise<{ code: number | null; trace: string[]; pages: string[] }> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-page-"));
  return new Promise((resolve, reject) => {
    const argv = asInitArgv(where, cmd, prefix);
    const p = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, BLINKD_TRACE: "1", BLINK_PREFIX: prefix }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.once("error", reject);
    p.once("exit", (code) => {
      clearTimeout(t);
      const pages: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const f = path.join(d, e.name);
          if (e.isDirectory()) walk(f);
          else if (e.name.endsWith(".state")) pages.push(f);
        }
      };
      walk(prefix);
      resolve({ code, trace: err.split("\n"), pages });
    });
  });
}
