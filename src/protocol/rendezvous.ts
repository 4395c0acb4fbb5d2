/**
 * Where a daemon listens and a client looks (spec/protocol.md §1, §10): the fixed name
 * `blinkd.sock` at the root of the prefix, where a guest looks when nothing else tells it, and
 * each daemon's private socket `run-PID.sock` in the owner-only runtime directory `.blinkd/`,
 * which `blinkd run` hands its guests so that two runs over one prefix both work. Shared by
 * the daemon (src/server/paths.ts makes and checks them) and the clients (which find them).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const SOCKET_NAME = "blinkd.sock";
export const RUNTIME_DIR = ".blinkd";
/** sizeof(sockaddr_un.sun_path) is 108, and the path needs its terminating NUL. */
export const SUN_PATH_MAX = 107;

const uid = (): number => process.getuid?.() ?? 0;

/** $BLINK_PREFIX, else $XDG_RUNTIME_DIR/blinkd, else /tmp/blinkd-UID. */
export function defaultPrefix(env: NodeJS.ProcessEnv = process.env): { prefix: string; implicit: boolean } {
  if (env.BLINK_PREFIX) return { prefix: path.resolve(env.BLINK_PREFIX), implicit: false };
  if (env.XDG_RUNTIME_DIR) return { prefix: path.join(env.XDG_RUNTIME_DIR, "blinkd"), implicit: true };
  return { prefix: path.join(os.tmpdir(), `blinkd-${uid()}`), implicit: true };
}

export function resolvePrefix(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { prefix: string; implicit: boolean } {
  return explicit ? { prefix: path.resolve(explicit), implicit: false } : defaultPrefix(env);
}

/** Which socket a guest uses: $BLINKD_SOCKET (set by `blinkd run`), else the fixed name at the prefix root. */
export function guestSocket(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BLINKD_SOCKET) return env.BLINKD_SOCKET;
  return path.join(defaultPrefix(env).prefix, SOCKET_NAME);
}

/** The private sockets of running daemons in a runtime directory. */
export function runSockets(runtimeDir: string): string[] {
  try {
    return fs
      .readdirSync(runtimeDir)
      .filter((f) => /^run-\d+\.sock$/.test(f))
      .map((f) => path.join(runtimeDir, f));
  } catch {
    return [];
  }
}

/**
 * What answers at a socket path. Only "stale" (ECONNREFUSED: no socket listens at that inode)
 * and "absent" say that no daemon is there; "busy" (EAGAIN from a full backlog, or no answer
 * in time: a stopped or overloaded daemon) and "denied" (EACCES: another user's socket) do not.
 */
export type ProbeState = "live" | "stale" | "absent" | "busy" | "denied";

export function probe(p: string, timeoutMs = 1000): Promise<ProbeState> {
  return new Promise((resolve) => {
    if (!fs.existsSync(p)) {
      // A path in a directory this user may not search looks absent to existsSync.
      try {
        fs.lstatSync(p);
      } catch (e) {
        return resolve((e as NodeJS.ErrnoException).code === "EACCES" ? "denied" : "absent");
      }
    }
    const s = net.connect(p);
    const t = setTimeout(() => {
      s.destroy();
      resolve("busy");
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      s.destroy();
      resolve("live");
    });
    s.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code === "ECONNREFUSED" ? "stale" : e.code === "ENOENT" ? "absent" : e.code === "EACCES" || e.code === "EPERM" ? "denied" : "busy");
    });
  });
}
