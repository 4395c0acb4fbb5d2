/**
 * Control connections for inspection tools (`blinkd ps`, `pstree`, `inspect`, `events`,
 * `procfs export`): read-only, and unable to act as a guest. Finding the daemon: --socket,
 * else $BLINKD_SOCKET, else the fixed name at the prefix root, else the one running
 * `blinkd run` in the prefix's runtime directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ClientConnection, type CallResult } from "./connection.js";
import type { ArgsOf } from "../protocol/index.js";
import { DaemonGoneError } from "./errors.js";
import { RUNTIME_DIR, SOCKET_NAME, probe, resolvePrefix, runSockets, type ProbeState } from "../protocol/rendezvous.js";
import type { ActorRecord, CheckReport, EventRecord, ProcRecord } from "../protocol/records.js";
import { EV } from "../protocol/events.js";

/** How long a control command waits for the daemon (connect, hello, each call) unless told otherwise. */
export const CONTROL_TIMEOUT_MS = 10_000;

const ownerOf = (p: string): string => {
  try {
    return `uid ${fs.statSync(p).uid}`;
  } catch {
    try {
      return `uid ${fs.statSync(path.dirname(p)).uid}`;
    } catch {
      return "another user";
    }
  }
};

/** The sentence for a socket no daemon answers at (probe's states other than live). */
function why(p: string, st: Exclude<ProbeState, "live">): string {
  switch (st) {
    case "absent":
      return `no blinkd daemon is running at ${p}: there is no such socket`;
    case "stale":
      return `no blinkd daemon is running at ${p}: nothing listens on it (a socket left by a daemon that is gone; the next daemon started there replaces it)`;
    case "denied":
      return `permission denied: ${p} belongs to ${ownerOf(p)} (uid ${process.getuid?.() ?? "?"} may not connect); run this command as the daemon's user or as root`;
    case "busy":
      return `the daemon at ${p} does not accept connections (stopped, or overloaded: its backlog is full)`;
  }
}

export async function findDaemon(opts: { socket?: string | undefined; prefix?: string | undefined; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.socket) {
    const st = await probe(opts.socket);
    if (st !== "live") throw new DaemonGoneError(why(opts.socket, st));
    return opts.socket;
  }
  if (env.BLINKD_SOCKET && !opts.prefix) return env.BLINKD_SOCKET;
  const { prefix } = resolvePrefix(opts.prefix, env);
  const fixed = path.join(prefix, SOCKET_NAME);
  const st = await probe(fixed);
  if (st === "live") return fixed;
  if (st === "denied" || st === "busy") throw new DaemonGoneError(why(fixed, st));
  const live: string[] = [];
  const runDir = path.join(prefix, RUNTIME_DIR);
  for (const s of runSockets(runDir)) {
    const t = await probe(s);
    if (t === "live") live.push(s);
    else if (t === "denied" || t === "busy") throw new DaemonGoneError(why(s, t));
  }
  if (live.length === 1) return live[0]!;
  if (live.length > 1) throw new DaemonGoneError(`several blinkd daemons run in ${prefix}; choose one with --socket:\n  ${live.join("\n  ")}`);
  try {
    fs.readdirSync(runDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EACCES") throw new DaemonGoneError(why(runDir, "denied"));
  }
  if (!fs.existsSync(prefix)) throw new DaemonGoneError(`no blinkd daemon is running at ${prefix}: the prefix does not exist (set --prefix or BLINK_PREFIX to the prefix the daemon was started with)`);
  if (st === "stale") throw new DaemonGoneError(why(fixed, st));
  throw new DaemonGoneError(`no blinkd daemon is running at ${prefix} (no ${fixed}); start one with 'blinkd run -- CMD' or 'blinkd serve'`);
}

/** One node of a /proc snapshot: [path, kind (0 file, 1 link, 2 directory), payload]. */
export type SnapshotNode = [string, number, Uint8Array | string | null];

export class Control {
  private constructor(
    readonly conn: ClientConnection,
    /** The namespace's pid_max, from the handshake. */
    readonly pidMax: number,
    private readonly timeoutMs: number,
  ) {}

  /** Connects and says hello; a daemon that does not answer within `timeoutMs` is an error that says so. */
  static async connect(socket: string, timeoutMs = CONTROL_TIMEOUT_MS): Promise<Control> {
    let conn: ClientConnection | undefined;
    const h = await within(
      timeoutMs,
      `the daemon at ${socket} did not answer the handshake within ${timeoutMs} ms (is it stopped? see its state with 'ps -o pid,stat,args -C node')`,
      async () => {
        conn = await ClientConnection.open(socket);
        return conn.hello("control", `blinkd-ctl pid ${process.pid}`);
      },
      () => conn?.destroy(),
    );
    return new Control(conn!, h.pidMax, timeoutMs);
  }

  /** One control call, bounded by the timeout. */
  private ask<N extends "ps" | "check" | "procfs_snapshot" | "inspect" | "events">(name: N, args: ArgsOf<N>): Promise<CallResult<N>> {
    return within(this.timeoutMs, `the daemon at ${this.conn.socketPath} did not answer ${name} within ${this.timeoutMs} ms (is it stopped?)`, () => this.conn.call(name, args), () => this.conn.destroy());
  }

  async ps(): Promise<ProcRecord[]> {
    return (await this.ask("ps", {})).out.procs as ProcRecord[];
  }

  /** The daemon's consistency checker. */
  async check(): Promise<CheckReport> {
    return (await this.ask("check", {})).out.report as CheckReport;
  }

  async procfsSnapshot(): Promise<SnapshotNode[]> {
    return (await this.ask("procfs_snapshot", {})).out.nodes as SnapshotNode[];
  }

  /** pid 0: every actor. */
  async inspect(pid: number): Promise<ActorRecord[]> {
    return (await this.ask("inspect", { pid })).out.actors as ActorRecord[];
  }

  async events(pid: number): Promise<EventRecord[]> {
    return (await this.ask("events", { pid, follow: false })).out.events as EventRecord[];
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

/** Runs `f`; past `ms`, calls `onTimeout` and fails with DaemonGoneError(`message`). */
async function within<T>(ms: number, message: string, f: () => Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DaemonGoneError(message));
    }, ms);
  });
  try {
    return await Promise.race([f(), late]);
  } finally {
    clearTimeout(timer);
  }
}
