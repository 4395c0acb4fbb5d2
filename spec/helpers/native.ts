/** Builds a C program from spec/native with the host's `cc`, once per test file. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./daemon.js";

export function buildNative(name: string, flags: string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-native-"));
  const out = path.join(dir, name);
  execFileSync("cc", ["-O2", "-Wall", ...flags, "-o", out, path.join(ROOT, "spec/native", `${name}.c`)], { stdio: ["ignore", "inherit", "inherit"] });
  return out;
}
