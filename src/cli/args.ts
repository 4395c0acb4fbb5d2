/** Command-line parsing on node:util's parseArgs, with errors a person can act on. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CONTROL_TIMEOUT_MS, Control, findDaemon } from "../client/control.js";

/** A mistake in the command line: the command exits 2 with the sentence and its usage. */
export class UsageError extends Error {}

/**
 * Parses `argv`; `positionals` says how many operands the command takes (default none):
 * an extra one is a usage error, not silently ignored.
 */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, usage: string, positionals: { max: number } = { max: 0 }) {
  let r;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  if (r.positionals.length > positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(r.positionals[positionals.max])}\n${usage}`);
  return r;
}

/**
 * A whole number written in decimal digits and nothing else: "1e3", "0x10", " 12 ", "12.0",
 * "+5" and "" are not numbers here (Number() would take them all).
 */
export function wholeNumber(v: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = wholeNumber(v);
  if (n === undefined || n < min || n > max) throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return n;
}

/** A PID operand: a whole number from 1 to 2^31-1. */
export function pidOperand(v: string, usage: string, what = "PID"): number {
  const n = wholeNumber(v);
  if (n === undefined || n < 1 || n > 0x7fffffff) throw new UsageError(`${what} must be a whole number from 1, not ${JSON.stringify(v)}\n${usage}`);
  return n;
}

/** The options every inspection command takes to find the daemon, and how long to wait for it. */
export const controlOptions = {
  prefix: { type: "string" },
  socket: { type: "string" },
  "timeout-ms": { type: "string" },
} as const;

export const CONTROL_USAGE = "[--prefix DIR] [--socket PATH] [--timeout-ms MS]";

/** Finds the daemon and opens a control connection, bounded by --timeout-ms (default 10 s). */
export async function connectControl(values: { prefix?: string | undefined; socket?: string | undefined; "timeout-ms"?: string | undefined }): Promise<Control> {
  const timeoutMs = intOption(values["timeout-ms"], "timeout-ms", 1, 3_600_000) ?? CONTROL_TIMEOUT_MS;
  return Control.connect(await findDaemon({ socket: values.socket, prefix: values.prefix }), timeoutMs);
}
