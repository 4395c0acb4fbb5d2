/**
 * `blinkd run -- CMD ARGS…`: a fresh namespace whose PID 1 is CMD. The daemon reserves
 * PID 1, starts CMD with the socket and the reservation's token in its environment, and
 * stands as init's parent outside the namespace: it reports init's real host status, and
 * exits with it (128+N for a signal) once the namespace is over.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import { startDaemon } from "../server/daemon.js";
import { hostWaitStatus } from "../client/guest.js";
import { shellCode, describeStatus } from "../protocol/linux/wait.js";
import { Errno } from "../protocol/errno.js";
import { DELIVERY } from "../protocol/calls/session.js";
import { daemonOptions, kernelOptions } from "./serve.js";
import { LIMIT_USAGE } from "./limitopts.js";
import { UsageError, parse } from "./args.js";
import { nativeEnv } from "../native/preload.js";
import { blinkEnv, blinkMissing, blinkPath } from "../native/blink.js";

const USAGE = `usage: blinkd run [--prefix DIR] [--trace] [--pid-max N] [--reserve-timeout-ms MS] ${LIMIT_USAGE} [--verbose] [--blink | --blink-path BLINK] [--blink-arg FLAG]… -- CMD [ARGS…]`;

/** How long the daemon waits for the namespace's last host processes to close after init died. */
const DRAIN_MS = 2000;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...daemonOptions, verbose: { type: "boolean" }, blink: { type: "boolean" }, "blink-path": { type: "string" }, "blink-arg": { type: "string", multiple: true } },
    USAGE,
    { max: Infinity },
  );
  if (positionals.length === 0) throw new UsageError(`no command given\n${USAGE}`);
  // Checked before the daemon starts: a bad number is a usage error (exit 2), like any other.
  const kopts = kernelOptions(values);
  const [cmd, ...args] = positionals as [string, ...string[]];
  // In blink (--blink, --blink-path): CMD runs as `BLINK [FLAG…] CMD ARGS…`, a guest of blink's own.
  const inBlink = values.blink === true || values["blink-path"] !== undefined;
  const blink = inBlink ? blinkPath(values["blink-path"], process.env) : null;
  if (!inBlink && values["blink-arg"]) throw new UsageError(`--blink-arg goes with --blink or --blink-path\n${USAGE}`);
  const missing = blink && blinkMissing(blink);
  if (missing) throw new UsageError(missing);
  const program = Effect.scoped(
    Effect.gen(function* () {
      const over = yield* Deferred.make<number>();
      const d = yield* startDaemon({
        mode: "run",
        prefix: values.prefix,
        ...kopts,
        onNamespaceOver: (s) => Deferred.unsafeDone(over, Effect.succeed(s)),
      });
      const say = (l: string): void => void (values.verbose && process.stderr.write(`blinkd: ${l}\n`));
      say(`namespace at ${d.socket}`);
      // A native command runs with the preload library, and a guest in blink; both take
      // their handled signals as host signals, rung also for what they block (delivery 2:
      // spec/signals.md §4.1). A Node.js command is a TypeScript guest (delivery 0).
      const nat = blink ? { native: true, env: {} } : nativeEnv(cmd, process.env);
      say(blink ? `in blink: ${blink}` : nat.native ? `native command: LD_PRELOAD=${nat.env.LD_PRELOAD}` : `not preloading ${cmd}`);
      const delivery = nat.native ? DELIVERY.HOST_BLOCKED : DELIVERY.EVENTS;
      const r = d.core.outside.reserveInit(cmd, [cmd, ...args], delivery);
      if (r instanceof Errno) return yield* Effect.fail(new Error(`cannot reserve PID 1: ${r.message}`));
      const hostStatus = yield* Deferred.make<number>();
      const [exe, exeArgs, env] = blink
        ? [blink, [...(values["blink-arg"] ?? []), cmd, ...args], { ...blinkEnv(process.env), BLINKD_SOCKET: d.socket, BLINKD_TOKEN: r.token }]
        : [cmd, args, { ...process.env, ...nat.env, BLINKD_SOCKET: d.socket, BLINK_PREFIX: d.prefix, BLINKD_TOKEN: r.token }];
      const child = spawn(exe, exeArgs, { stdio: "inherit", env });
      child.once("error", (e) => {
        process.stderr.write(`blinkd run: cannot start ${cmd}: ${e.message}\n`);
        d.core.outside.reportStatus(r.pid, 127 << 8);
        Deferred.unsafeDone(hostStatus, Effect.succeed(127 << 8));
      });
      child.once("exit", (code, sig) => {
        const s = hostWaitStatus(code, sig);
        say(`PID 1 (host ${child.pid}) ended: ${describeStatus(s)}`);
        d.core.outside.reportStatus(r.pid, s);
        Deferred.unsafeDone(hostStatus, Effect.succeed(s));
      });
      // The launcher forwards the signals a terminal or supervisor sends it to PID 1, as tini
      // does: one PID 1 handles as a native guest is queued by the daemon (its host signal
      // would otherwise look like a doorbell with nothing queued); the rest go to its host process.
      const forward = (s: NodeJS.Signals): void => {
        if (!d.core.outside.forwardSignal(r.pid, os.constants.signals[s], process.getuid?.() ?? 0)) child.kill(s);
      };
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const) process.on(s, forward);
      const status = yield* Deferred.await(hostStatus);
      yield* Deferred.await(over);
      // Init is dead and every process was sent SIGKILL: let their connections drain.
      yield* Effect.promise(() => d.core.drained(DRAIN_MS));
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const) process.off(s, forward);
      return shellCode(status);
    }),
  );
  return Effect.runPromise(program);
}
