/**
 * Where the daemon listens. The fixed name `blinkd.sock` at the root of the prefix is where
 * a guest looks when nothing else tells it; each daemon also has a private socket in the
 * owner-only runtime directory `.blinkd/` that `blinkd run` hands its guests, so that two
 * runs over one prefix both work.
 */
import * as fs from "node:fs";
import * as path from "node:path";
// Sub-path imports: every guest loads this file (client/locate.ts), and the "effect" barrel costs it ~150 ms more.
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";

// Where a socket is, what answers there, and the private sockets of running daemons: the
// guest side needs them too, so they are declared once in the protocol.
import { RUNTIME_DIR, SOCKET_NAME, SUN_PATH_MAX } from "../protocol/rendezvous.js";
export { SOCKET_NAME, RUNTIME_DIR, SUN_PATH_MAX, defaultPrefix, resolvePrefix, probe, runSockets, type ProbeState } from "../protocol/rendezvous.js";

export class PathError extends Data.TaggedError("PathError")<{ readonly message: string }> {}

const uid = (): number => process.getuid?.() ?? 0;

export function checkSunPath(p: string): PathError | undefined {
  const n = Buffer.byteLength(p);
  if (n > SUN_PATH_MAX)
    return new PathError({ message: `socket path ${p} is ${n} bytes; a UNIX socket path holds at most ${SUN_PATH_MAX} (sun_path): use a shorter prefix` });
  return undefined;
}

function checkOwned(p: string, st: fs.Stats, what: string): PathError | undefined {
  if (st.uid !== uid() && st.uid !== 0) return new PathError({ message: `${what} ${p} is owned by uid ${st.uid}, not by this user (uid ${uid()}): refusing to use it` });
  if (st.mode & 0o002 && !(st.mode & 0o1000)) return new PathError({ message: `${what} ${p} is writable by others (mode ${(st.mode & 0o7777).toString(8)}): refusing to use it` });
  return undefined;
}

/** Checks (or, for the default prefix, creates) the prefix and its owner-only runtime directory. */
export function preparePrefix(prefix: string, implicit: boolean): Effect.Effect<{ prefix: string; runtimeDir: string; socket: string }, PathError> {
  return Effect.try({
    try: () => {
      if (implicit) fs.mkdirSync(prefix, { recursive: true, mode: 0o700 });
      let st: fs.Stats;
      try {
        st = fs.statSync(prefix);
      } catch {
        throw new PathError({ message: `prefix ${prefix} does not exist (set BLINK_PREFIX or --prefix to an existing directory)` });
      }
      if (!st.isDirectory()) throw new PathError({ message: `prefix ${prefix} is not a directory` });
      const bad = checkOwned(prefix, st, "prefix");
      if (bad) throw bad;
      const runtimeDir = path.join(prefix, RUNTIME_DIR);
      try {
        fs.mkdirSync(runtimeDir, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const rst = fs.lstatSync(runtimeDir);
      if (!rst.isDirectory()) throw new PathError({ message: `${runtimeDir} is not a directory` });
      if (rst.uid !== uid()) throw new PathError({ message: `runtime directory ${runtimeDir} is owned by uid ${rst.uid}, not by this user: refusing to use it` });
      if ((rst.mode & 0o777) !== 0o700) fs.chmodSync(runtimeDir, 0o700);
      const socket = path.join(prefix, SOCKET_NAME);
      // Every socket is bound in the runtime directory under a name as long as run-PID.sock, then renamed.
      const tooLong = checkSunPath(socket) ?? checkSunPath(path.join(runtimeDir, `run-${process.pid}.sock`));
      if (tooLong) throw tooLong;
      return { prefix, runtimeDir, socket };
    },
    catch: (e) => (e instanceof PathError ? e : new PathError({ message: `prefix ${prefix}: ${(e as Error).message}` })),
  });
}

/** Checks what is at the path before a daemon takes it: nothing, a socket of this user's, or an error. */
export function checkSocketPath(p: string): Effect.Effect<"absent" | "socket", PathError> {
  return Effect.gen(function* () {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(p);
    } catch {
      return "absent" as const;
    }
    if (!st.isSocket()) return yield* new PathError({ message: `${p} exists and is not a socket: refusing to replace it` });
    if (st.uid !== uid()) return yield* new PathError({ message: `socket ${p} is owned by uid ${st.uid}, not by this user: refusing to replace it` });
    return "socket" as const;
  });
}

/** The lock the daemon holding a socket keeps for its life (lock.ts): `.blinkd/NAME.lock` beside the socket's name. */
export function lockPathFor(runtimeDir: string, socket: string): string {
  return path.join(runtimeDir, `${path.basename(socket, ".sock")}.lock`);
}

