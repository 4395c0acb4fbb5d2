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
import { PathError, checkSocketPath, preparePrefix, resolvePrefix } from "./paths.js";
import { fifoMirrors } from "./hostfifo.js";

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

/** Listens at `target`: bound in the owner-only runtime directory, made 0600, then renamed into place. */
function listenAt(core: ServerCore, runtimeDir: string, target: string): Effect.Effect<string, PathError, Scope.Scope> {
  return Effect.acquireRelease(
    Effect.async<{ server: net.Server; ino: number }, PathError>((resume) => {
      // No longer than run-PID.sock, whose length preparePrefix checked against sun_path.
      const tmp = path.join(runtimeDir, `t${process.pid}-${randomBytes(1).toString("hex")}.sock`);
      const server = net.createServer({ allowHalfOpen: false }, (sock) => void core.accept(sock));
      server.once("error", (e) => resume(Effect.fail(new PathError({ message: `cannot listen at ${target}: ${e.message}` }))));
      server.listen(tmp, () => {
        try {
          fs.chmodSync(tmp, 0o600);
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
    const fixed = yield* checkSocketPath(dirs.socket);
    const listening: string[] = [];
    if (opts.mode === "serve") {
      if (fixed === "live") return yield* new PathError({ message: `a daemon is already serving at ${dirs.socket}` });
      listening.push(yield* listenAt(core, dirs.runtimeDir, dirs.socket));
    } else {
      listening.push(yield* listenAt(core, dirs.runtimeDir, path.join(dirs.runtimeDir, `run-${process.pid}.sock`)));
      if (fixed !== "live") {
        const also = yield* Effect.either(listenAt(core, dirs.runtimeDir, dirs.socket));
        if (also._tag === "Right") listening.push(also.right);
      }
    }
    return { core, prefix, runtimeDir: dirs.runtimeDir, socket: listening[0]!, listening };
  });
}
