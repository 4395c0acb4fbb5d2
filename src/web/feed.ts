/**
 * What `blinkd web` knows of the namespace: one control connection that follows every event
 * record (`events` with follow) and takes `inspect` snapshots between them, kept as a
 * bounded history that every page is sent when it opens, then live. The connection is a
 * control connection: it can read the namespace and nothing else (spec/protocol.md §7.2).
 * When the daemon goes away the history stays, so a page can still step through it.
 */
import { Control } from "../client/control.js";
import type { ActorRecord, EventRecord } from "../protocol/records.js";

/** One message to the pages, as server-sent event name and JSON text. */
export interface Item {
  readonly event: "record" | "snapshot" | "lost" | "gone" | "hello" | "live";
  readonly data: string;
  /** For records and snapshots: the event sequence number it belongs after. */
  readonly seq: number;
}

export interface FeedLimits {
  /** Records kept for the pages (the oldest go first). */
  readonly maxRecords: number;
  /** Bytes of snapshot JSON kept; past it every other old snapshot is dropped. */
  readonly maxSnapshotBytes: number;
  /** Least time between two snapshots while records flow, in ms. */
  readonly snapshotIntervalMs: number;
}

export const defaultFeedLimits: FeedLimits = { maxRecords: 50_000, maxSnapshotBytes: 64 << 20, snapshotIntervalMs: 250 };

/** JSON that carries 64-bit integers (decoded as bigint) as decimal strings. */
export const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export class Feed {
  private readonly records: Item[] = [];
  private snapshots: Item[] = [];
  private snapshotBytes = 0;
  private readonly subscribers = new Set<(item: Item) => void>();
  private readonly stop = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private taking = false;
  private lastTaken = 0;
  private lastDuration = 0;
  /** Set once the daemon is gone: why. */
  gone: string | undefined;
  /** Resolves when the follow ends (the daemon went away, or close()). */
  readonly ended: Promise<void>;

  private constructor(
    private readonly ctl: Control,
    readonly socket: string,
    private readonly limits: FeedLimits,
  ) {
    this.ended = this.ctl
      .follow(0, (r) => this.onRecord(r), this.stop.signal)
      .then(
        () => this.end(this.stop.signal.aborted ? "blinkd web stopped" : "the event stream ended"),
        (e: unknown) => this.end((e as Error).message ?? String(e)),
      );
    this.ctl.conn.onGone = (reason) => this.end(reason);
    // The first snapshot: its request follows the events call on the same connection, so the
    // daemon answers it after sending the records it had.
    this.snapshot();
  }

  static async start(socket: string, limits: FeedLimits = defaultFeedLimits): Promise<Feed> {
    const ctl = await Control.connect(socket);
    return new Feed(ctl, socket, limits);
  }

  /** What a page is sent first: the daemon, whether it is gone, and the history. */
  history(): Item[] {
    const hello: Item = { event: "hello", seq: 0, data: json({ socket: this.socket, pidMax: this.ctl.pidMax, gone: this.gone ?? null }) };
    const out = [hello, ...this.snapshots, ...this.records];
    if (this.gone !== undefined) out.push(this.goneItem());
    return out;
  }

  subscribe(f: (item: Item) => void): () => void {
    this.subscribers.add(f);
    return () => void this.subscribers.delete(f);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** A fresh snapshot straight from the daemon (GET /api/snapshot). */
  inspect(): Promise<ActorRecord[]> {
    return this.ctl.inspect(0);
  }

  check(): ReturnType<Control["check"]> {
    return this.ctl.check();
  }

  close(): void {
    this.stop.abort();
    clearTimeout(this.timer);
    this.ctl.close();
  }

  private publish(item: Item): void {
    for (const f of this.subscribers) f(item);
  }

  private onRecord(r: EventRecord | { kind: "lost"; count: number }): void {
    if (r.kind === "lost") {
      // What the lost records changed is unknown: a snapshot at once sets the pages right.
      this.publish({ event: "lost", seq: 0, data: json(r) });
      this.snapshot();
      return;
    }
    const item: Item = { event: "record", seq: r.seq, data: json(r) };
    this.records.push(item);
    if (this.records.length > this.limits.maxRecords) this.records.splice(0, this.records.length - this.limits.maxRecords);
    this.publish(item);
    this.schedule();
  }

  /** Records are flowing: a snapshot after them, at most one per interval (longer when snapshots are slow to take). */
  private schedule(): void {
    if (this.timer || this.gone !== undefined) return;
    const interval = Math.max(this.limits.snapshotIntervalMs, 10 * this.lastDuration);
    const wait = Math.max(0, this.lastTaken + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.snapshot();
    }, wait);
  }

  private snapshot(): void {
    if (this.gone !== undefined) return;
    if (this.taking) return void this.schedule();
    this.taking = true;
    const t0 = Date.now();
    this.ctl.inspect(0).then(
      (actors) => {
        this.taking = false;
        this.lastTaken = Date.now();
        this.lastDuration = this.lastTaken - t0;
        const seq = actors[0]?.seq ?? 0;
        const item: Item = { event: "snapshot", seq, data: json({ seq, actors }) };
        this.keep(item);
        this.publish(item);
      },
      () => {
        this.taking = false;
      },
    );
  }

  private keep(item: Item): void {
    this.snapshots.push(item);
    this.snapshotBytes += item.data.length;
    // Snapshots older than every record kept are of no use but the latest of them.
    const oldest = this.records[0]?.seq ?? item.seq;
    while (this.snapshots.length > 1 && this.snapshots[1]!.seq <= oldest) this.snapshotBytes -= this.snapshots.shift()!.data.length;
    // Too many bytes: thin out, keeping the first and the last (a page replays more records between the rest).
    if (this.snapshotBytes > this.limits.maxSnapshotBytes && this.snapshots.length > 2) {
      this.snapshots = this.snapshots.filter((s, i, a) => i === 0 || i === a.length - 1 || i % 2 === 0);
      this.snapshotBytes = this.snapshots.reduce((n, s) => n + s.data.length, 0);
    }
  }

  private goneItem(): Item {
    return { event: "gone", seq: 0, data: json({ reason: this.gone }) };
  }

  private end(reason: string): void {
    if (this.gone !== undefined) return;
    this.gone = reason;
    clearTimeout(this.timer);
    this.publish(this.goneItem());
  }
}
