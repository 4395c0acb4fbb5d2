/**
 * The daemon's life as an Effect: it holds its listening sockets in a Scope, so that
 * however it ends (signal, namespace over, error) the sockets are closed and their paths
 * removed. Each connection lives as long as its socket.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import * as Effect from "effect/Effect";
import * as Scope from "effect/Scope";
import { ServerCore, type CoreOptions } from "./core.js";
import { PathError, checkSocketPath, lockPathFor, preparePrefix, probe, resolvePrefix } from "./paths.js";
import { fifoMirrors } from "./hostfifo.js";
import { LockError, takeLock, type HeldLock } from "./lock.js";
import { StatePage } from "./statepage.js";
import { statePagePath } from "../protocol/statepage.js";

export interface DaemonOptions extends CoreOptions {
  /** The prefix (else $BLINK_PREFIX, else the default). */
  readonly prefix?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * serve: the daemon must own the fixed name at the prefix root.
   * run: a private socket in the runtime directory, and the fixed name too when it is free.
   */
  readonly mode: "serve" | "run";
}

export interface Daemon {
  readonly core: ServerCore;
  readonly prefix: string;
  readonly runtimeDir: string;
  /** The socket this daemon's guests should use. */
  readonly socket: string;
  /** Every path this daemon listens on. */
  readonly listening: readonly string[];
}

/**
 * A socket's mode: 0666 where no other user can reach it by its path (the owner-only runtime
 * directory, or the fixed name in an owner-only prefix), so that a guest that dropped its
 * privileges still connects through its door (an O_PATH descriptor opened before the drop,
 * clients/c/blinkd.h), as a process keeps making system calls whatever its uid; 0600 elsewhere.
 */
function socketMode(target: string): number {
  try {
    return (fs.statSync(path.dirname(target)).mode & 0o077) === 0 ? 0o666 : 0o600;
  } catch {
    return 0o600;
  }
}

/** Listens at `target`: bound in the owner-only runtime directory, given its mode (socketMode), then renamed into place. */
function listenAt(core: ServerCore, runtimeDir: string, target: string): Effect.Effect<string, PathError, Scope.Scope> {
  return Effect.acquireRelease(
    Effect.async<{ server: net.Server; ino: number }, PathError>((resume) => {
      // No longer than run-PID.sock, whose length preparePrefix checked against sun_path.
      const tmp = path.join(runtimeDir, `t${process.pid}-${randomBytes(1).toString("hex")}.sock`);
      const server = net.createServer({ allowHalfOpen: false }, (sock) => void core.accept(sock));
      server.once("error", (e) => resume(Effect.fail(new PathError({ message: `cannot listen at ${target}: ${e.message}` }))));
      server.listen(tmp, () => {
        try {
          fs.chmodSync(tmp, socketMode(target));
          fs.renameSync(tmp, target);
          resume(Effect.succeed({ server, ino: fs.lstatSync(target).ino }));
        } catch (e) {
          server.close();
          resume(Effect.fail(new PathError({ message: `cannot listen at ${target}: ${(e as Error).message}` })));
        }
      });
    }),
    ({ server, ino }) =>
      Effect.sync(() => {
        server.close();
        try {
          // Remove the path only if it is still ours (a newer daemon may have replaced a stale one).
          if (fs.lstatSync(target).ino === ino) fs.unlinkSync(target);
        } catch {
          /* already gone */
        }
      }),
  ).pipe(Effect.as(target));
}

/** Takes a life-long lock (lock.ts) in the daemon's Scope; undefined when a live process holds it. */
function lockFor(file: string): Effect.Effect<HeldLock | undefined, PathError, Scope.Scope> {
  return Effect.acquireRelease(
    Effect.try({ try: () => takeLock(file), catch: (e) => new PathError({ message: e instanceof LockError ? e.message : `cannot lock ${file}: ${(e as Error).message}` }) }),
    (l) => Effect.sync(() => l?.release()),
  );
}

/**
 * Removes the sockets daemons that died without cleaning up (SIGKILL) left in the runtime
 * directory: a `run-PID.sock` (or a temporary `tPID-XX.sock`) is removed only when
 * connecting to it is refused (ECONNREFUSED: no socket listens at that inode any more, the
 * proof that its daemon is gone); one that accepts, or does not answer (EAGAIN, a stopped
 * daemon), is left alone.
 */
async function cleanRuntimeDir(runtimeDir: string, log: (l: string) => void): Promise<void> {
  let names: string[];
  try {
    names = fs.readdirSync(runtimeDir);
  } catch {
    return;
  }
  const gone: string[] = [];
  for (const n of names) {
    const m = /^(run-\d+|t\d+-[0-9a-f]+)\.sock$/.exec(n);
    if (!m) continue;
    const p = path.join(runtimeDir, n);
    if ((await probe(p, 200)) !== "stale") continue;
    fs.rmSync(p, { force: true });
    fs.rmSync(statePagePath(p), { force: true });
    if (m[1]!.startsWith("run-")) gone.push(m[1]!);
  }
  if (gone.length) log(`removed the sockets of ${gone.length} daemon${gone.length === 1 ? "" : "s"} that died without cleaning up: ${gone.join(", ")}`);
}

export function startDaemon(opts: DaemonOptions): Effect.Effect<Daemon, PathError, Scope.Scope> {
  return Effect.gen(function* () {
    const { prefix, implicit } = resolvePrefix(opts.prefix, opts.env);
    const dirs = yield* preparePrefix(prefix, implicit);
    const core = new ServerCore(opts);
    core.kernel.files.setMirrorFactory(fifoMirrors(dirs.runtimeDir));
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        core.closeAll();
        core.kernel.files.dispose();
      }),
    );
    const listening: string[] = [];
    // Who holds the fixed name is decided by its lock alone (held for the holder's life), never by
    // whether a connect fails: a stopped daemon with a full backlog refuses with EAGAIN (issue 15).
    // The fixed name's lock file is never removed, so that every daemon locks the same file.
    const fixedLock = lockPathFor(dirs.runtimeDir, dirs.socket);
    if (opts.mode === "serve") {
      const held = yield* lockFor(fixedLock);
      if (!held) return yield* new PathError({ message: `a daemon is already serving at ${dirs.socket} (it holds ${fixedLock})` });
      yield* checkSocketPath(dirs.socket);
      yield* Effect.promise(() => cleanRuntimeDir(dirs.runtimeDir, core.log));
      listening.push(yield* listenAt(core, dirs.runtimeDir, dirs.socket));
    } else {
      yield* Effect.promise(() => cleanRuntimeDir(dirs.runtimeDir, core.log));
      listening.push(yield* listenAt(core, dirs.runtimeDir, path.join(dirs.runtimeDir, `run-${process.pid}.sock`)));
      const fixed = yield* lockFor(fixedLock);
      if (fixed && (yield* Effect.either(checkSocketPath(dirs.socket)))._tag === "Right") {
        const also = yield* Effect.either(listenAt(core, dirs.runtimeDir, dirs.socket));
        if (also._tag === "Right") listening.push(also.right);
      }
    }
    // The state page beside the sockets (spec/protocol.md §10.1): readable by whoever may use the
    // socket; a daemon that cannot make it serves without one (the guests ask instead).
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        try {
          const socketMode0 = socketMode(listening[0]!);
          core.statePage = StatePage.create(listening, core.kernel.config.pidMax, socketMode0 === 0o666 ? 0o644 : 0o600);
          // The trace names each slot written (spec/native.statepage.test.ts counts them).
          if (core.trace) core.statePage.onWrite = (pid) => core.log(`state page: slot ${pid} written`);
        } catch (e) {
          core.log(`no state page beside ${listening[0]!}: ${(e as Error).message}`);
        }
      }),
      () =>
        Effect.sync(() => {
          core.statePage?.close();
          core.statePage = undefined;
        }),
    );
    return { core, prefix, runtimeDir: dirs.runtimeDir, socket: listening[0]!, listening };
  });
}
