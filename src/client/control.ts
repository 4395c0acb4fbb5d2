/**
 * Control connections for inspection tools (`blinkd ps`, `pstree`, `inspect`, `events`,
 * `procfs export`): read-only, and unable to act as a guest. Finding the daemon: --socket,
 * else $BLINKD_SOCKET, else the fixed name at the prefix root, else the one running
 * `blinkd run` in the prefix's runtime directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ClientConnection } from "./connection.js";
import { DaemonGoneError } from "./errors.js";
import { RUNTIME_DIR, SOCKET_NAME, probe, resolvePrefix, runSockets } from "../server/paths.js";
import type { CheckReport } from "../actors/invariants.js";
import type { ActorRecord, ProcRecord } from "../syscalls/control.js";
import type { EventRecord } from "../actors/eventlog.js";
import { EV } from "../protocol/messages.js";

export async function findDaemon(opts: { socket?: string | undefined; prefix?: string | undefined; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.socket) {
    const st = await probe(opts.socket);
    if (st === "absent") throw new DaemonGoneError(`no blinkd daemon is running at ${opts.socket}: there is no such socket`);
    if (st === "stale") throw new DaemonGoneError(`no blinkd daemon is running at ${opts.socket}: it is a stale socket left by a daemon that is gone (remove it, or start a daemon there)`);
    return opts.socket;
  }
  if (env.BLINKD_SOCKET && !opts.prefix) return env.BLINKD_SOCKET;
  const { prefix } = resolvePrefix(opts.prefix, env);
  const fixed = path.join(prefix, SOCKET_NAME);
  const st = await probe(fixed);
  if (st === "live") return fixed;
  const live: string[] = [];
  for (const s of runSockets(path.join(prefix, RUNTIME_DIR))) if ((await probe(s)) === "live") live.push(s);
  if (live.length === 1) return live[0]!;
  if (live.length > 1) throw new DaemonGoneError(`several blinkd daemons run in ${prefix}; choose one with --socket:\n  ${live.join("\n  ")}`);
  if (!fs.existsSync(prefix)) throw new DaemonGoneError(`no blinkd daemon is running at ${prefix}: the prefix does not exist (set --prefix or BLINK_PREFIX to the prefix the daemon was started with)`);
  throw new DaemonGoneError(
    st === "stale"
      ? `no blinkd daemon is running at ${prefix}: ${fixed} is a stale socket left by a daemon that is gone (remove it, or start a daemon with 'blinkd serve')`
      : `no blinkd daemon is running at ${prefix} (no ${fixed}); start one with 'blinkd run -- CMD' or 'blinkd serve'`,
  );
}

/** One node of a /proc snapshot: [path, kind (0 file, 1 link, 2 directory), payload]. */
export type SnapshotNode = [string, number, Uint8Array | string | null];

export class Control {
  private constructor(
    readonly conn: ClientConnection,
    /** The namespace's pid_max, from the handshake. */
    readonly pidMax: number,
  ) {}

  static async connect(socket: string): Promise<Control> {
    const conn = await ClientConnection.open(socket);
    const h = await conn.hello("control", `blinkd-ctl pid ${process.pid}`);
    return new Control(conn, h.pidMax);
  }

  async ps(): Promise<ProcRecord[]> {
    return (await this.conn.call("ps", {})).out.procs as ProcRecord[];
  }

  /** The daemon's consistency checker. */
  async check(): Promise<CheckReport> {
    return (await this.conn.call("check", {})).out.report as CheckReport;
  }

  async procfsSnapshot(): Promise<SnapshotNode[]> {
    return (await this.conn.call("procfs_snapshot", {})).out.nodes as SnapshotNode[];
  }

  /** pid 0: every actor. */
  async inspect(pid: number): Promise<ActorRecord[]> {
    return (await this.conn.call("inspect", { pid })).out.actors as ActorRecord[];
  }

  async events(pid: number): Promise<EventRecord[]> {
    return (await this.conn.call("events", { pid, follow: false })).out.events as EventRecord[];
  }

  /** Streams records to `on` until `signal` aborts; resolves then. */
  async follow(pid: number, on: (r: EventRecord | { kind: "lost"; count: number }) => void, signal: AbortSignal): Promise<void> {
    this.conn.onEvent = (kind, fields) => {
      if (kind === EV.INSPECT) on(fields[0] as EventRecord);
    };
    try {
      await this.conn.call("events", { pid, follow: true }, { signal });
    } catch (e) {
      if (!signal.aborted) throw e;
    }
  }

  close(): void {
    this.conn.close();
  }
}
