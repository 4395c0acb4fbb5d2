/**
 * Control connections for inspection tools (`blinkd ps`, …): read-only, and unable to act
 * as a guest. Finding the daemon: --socket, else $BLINKD_SOCKET, else the fixed name at the
 * prefix root, else the one running `blinkd run` in the prefix's runtime directory.
 */
import * as path from "node:path";
import { ClientConnection } from "./connection.js";
import { DaemonGoneError } from "./errors.js";
import { RUNTIME_DIR, SOCKET_NAME, probe, resolvePrefix, runSockets } from "../server/paths.js";
import type { ProcRecord } from "../syscalls/control.js";
import type { CheckReport } from "../actors/invariants.js";

export async function findDaemon(opts: { socket?: string | undefined; prefix?: string | undefined; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.socket) return opts.socket;
  if (env.BLINKD_SOCKET && !opts.prefix) return env.BLINKD_SOCKET;
  const { prefix } = resolvePrefix(opts.prefix, env);
  const fixed = path.join(prefix, SOCKET_NAME);
  const st = await probe(fixed);
  if (st === "live") return fixed;
  const live: string[] = [];
  for (const s of runSockets(path.join(prefix, RUNTIME_DIR))) if ((await probe(s)) === "live") live.push(s);
  if (live.length === 1) return live[0]!;
  if (live.length > 1) throw new DaemonGoneError(`several blinkd daemons run in ${prefix}; choose one with --socket:\n  ${live.join("\n  ")}`);
  throw new DaemonGoneError(
    st === "stale"
      ? `no blinkd daemon is running at ${prefix}: ${fixed} is a stale socket left by a daemon that is gone`
      : `no blinkd daemon is running at ${prefix} (no ${fixed}); start one with 'blinkd run -- CMD' or 'blinkd serve'`,
  );
}

export class Control {
  private constructor(readonly conn: ClientConnection) {}

  static async connect(socket: string): Promise<Control> {
    const conn = await ClientConnection.open(socket);
    await conn.hello("control", `blinkd-ctl pid ${process.pid}`);
    return new Control(conn);
  }

  async ps(): Promise<ProcRecord[]> {
    return (await this.conn.call("ps", {})).out.procs as ProcRecord[];
  }

  /** The daemon's consistency checker. */
  async check(): Promise<CheckReport> {
    return (await this.conn.call("check", {})).out.report as CheckReport;
  }

  close(): void {
    this.conn.close();
  }
}
