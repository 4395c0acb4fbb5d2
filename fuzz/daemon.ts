/** A real `blinkd serve` process for the fuzzer and the hardening suites, with its stderr scanned as it streams. */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { shebangNodeFlags } from "../src/cli/nodeflags.js";

export const ROOT = path.resolve(import.meta.dirname, import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? "../.." : "..");
export const BIN = path.join(ROOT, "bin/blinkd.js");
/** The Node.js flags of bin/blinkd.js's `#!` line, then the script: the daemon as the `blinkd` command runs it. */
export const NODE_BIN: readonly string[] = [...shebangNodeFlags(BIN), BIN];

export interface Daemon {
  readonly proc: ChildProcess;
  readonly prefix: string;
  readonly socket: string;
  /** stderr lines that say the daemon itself failed (an exception in a handler, a crash). */
  readonly internalErrors: string[];
  /** Every stderr line, newest last, at most the last 200. */
  readonly tail: string[];
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startDaemon(args: string[] = [], prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-h-"))): Promise<Daemon> {
  // BLINKD_DAEMON_NODE_ARGS: Node.js flags for the daemon alone (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.BLINKD_DAEMON_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, ...NODE_BIN, "serve", "--prefix", prefix, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const internalErrors: string[] = [];
  const tail: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stderr! }).on("line", (l) => {
      tail.push(l);
      if (tail.length > 200) tail.shift();
      if (/internal error|Error:|at .*\.js:\d+/.test(l) && !l.includes("protocol error, closing: malformed")) internalErrors.push(l);
      if (l.includes("serving at")) resolve();
    });
    void exited.then((e) => reject(new Error(`blinkd serve exited (${e.code ?? e.signal}) before serving: ${tail.join("\n")}`)));
  });
  return {
    proc,
    prefix,
    socket: path.join(prefix, "blinkd.sock"),
    internalErrors,
    tail,
    stop: (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
