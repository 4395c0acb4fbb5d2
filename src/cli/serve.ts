/** `blinkd serve`: a daemon at the fixed socket of the prefix, until SIGINT or SIGTERM. */
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import { startDaemon } from "../server/daemon.js";
import { PROTOCOL_VERSION } from "../protocol/index.js";
import { describeStatus } from "../protocol/linux/wait.js";
import { intOption, parse } from "./args.js";
import { LIMIT_USAGE, limitOptions, limitValues } from "./limitopts.js";

const USAGE = `usage: blinkd serve [--prefix DIR] [--trace] [--pid-max N] [--reserve-timeout-ms MS] ${LIMIT_USAGE}`;

export const daemonOptions = {
  prefix: { type: "string" },
  trace: { type: "boolean" },
  "pid-max": { type: "string" },
  "reserve-timeout-ms": { type: "string" },
  ...limitOptions,
} as const;

export function kernelOptions(values: { "pid-max"?: string | undefined; "reserve-timeout-ms"?: string | undefined; trace?: boolean | undefined } & Parameters<typeof limitValues>[0]) {
  const lim = limitValues(values);
  // PID_MAX_LIMIT on 64-bit Linux is 4194304 (include/linux/threads.h).
  const pidMax = intOption(values["pid-max"], "pid-max", 2, 4194304);
  const reserveTimeoutMs = intOption(values["reserve-timeout-ms"], "reserve-timeout-ms", 1, 3_600_000);
  return {
    kernel: { ...(pidMax === undefined ? {} : { pidMax }), ...(reserveTimeoutMs === undefined ? {} : { reserveTimeoutMs }), ...lim.kernel },
    limits: lim.limits,
    trace: values.trace === true || process.env.BLINKD_TRACE === "1",
  };
}

/**
 * Catches SIGINT and SIGTERM from now on (so that a signal right after "serving at" still
 * shuts down cleanly) and gives an Effect that resolves with the first one.
 */
const catchStopSignals = Effect.gen(function* () {
  const got = yield* Deferred.make<NodeJS.Signals>();
  const on = (s: NodeJS.Signals): void => void Deferred.unsafeDone(got, Effect.succeed(s));
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.on("SIGINT", on);
      process.on("SIGTERM", on);
    }),
    () =>
      Effect.sync(() => {
        process.off("SIGINT", on);
        process.off("SIGTERM", on);
      }),
  );
  return Deferred.await(got);
});

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, daemonOptions, USAGE);
  // Checked before the daemon starts: a bad number is a usage error (exit 2), like any other.
  const kopts = kernelOptions(values);
  const program = Effect.scoped(
    Effect.gen(function* () {
      const untilSignal = yield* catchStopSignals;
      // A namespace whose init died is over (zap_pid_ns_processes) and is never entered again:
      // the daemon says so, and the next process to register starts a new one as its PID 1.
      const over = (st: number): void =>
        void process.stderr.write(`blinkd: the namespace is over: its init (PID 1) ended, ${describeStatus(st)}, and every process with it; the next process to register starts a new namespace as its PID 1\n`);
      const d = yield* startDaemon({ mode: "serve", prefix: values.prefix, ...kopts, kernel: { ...kopts.kernel, renewNamespace: true }, onNamespaceOver: over });
      process.stderr.write(`blinkd: serving at ${d.socket} (protocol ${PROTOCOL_VERSION}, at most ${d.core.limits.maxConnections} connections)\n`);
      const s = yield* untilSignal;
      process.stderr.write(`blinkd: ${s}: shutting down\n`);
      return 0;
    }),
  );
  return Effect.runPromise(program);
}
