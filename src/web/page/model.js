// The namespace as the web view knows it at one event: built from an `inspect` snapshot
// (control call `inspect` with pid 0) and moved forward by the records of `events`, each
// of which carries what it changed (src/actors/eventlog.ts). No DOM here: the page and the
// tests (spec/web.model.test.ts) use the same functions. Served to the browser as it is.
//
// A world: { seq, ns, procs: Map<pid, Proc>, threads: Map<tid, Thread>, eventfds: Map<id, Efd>, gaps }
//   Proc:   { pid, state, context, fds }            context as `inspect` shows it
//   Thread: { tid, pid, state, context, calls }     calls: [{ req, call, args }] not yet answered
//   Efd:    { id, state, context, holders, waiters, flags }
// Descriptor tables (a process's fds, an eventfd's holders and waiter count) are not actors:
// no record tells them, so they are as of the snapshot the world was built from.

/** The empty namespace before its first record (seq 0). */
export function emptyWorld() {
  return { seq: 0, ns: { state: "?", context: {} }, procs: new Map(), threads: new Map(), eventfds: new Map(), gaps: 0 };
}

/** A world from a snapshot: `actors` as `inspect` (pid 0) returns them; the namespace's `seq` is the last record it includes. */
export function fromSnapshot(actors) {
  const w = emptyWorld();
  for (const a of actors) {
    const n = Number(a.id.slice(a.id.indexOf(":") + 1));
    if (a.kind === "namespace") {
      w.ns = { state: a.state, context: { ...a.context } };
      w.seq = a.seq ?? 0;
    } else if (a.kind === "process") {
      const { children: _c, threads: _t, ...context } = a.context;
      w.procs.set(n, { pid: n, state: stateText(a.state), context, fds: a.fds ?? [] });
    } else if (a.kind === "thread") {
      w.threads.set(n, { tid: n, pid: a.context.pid, state: stateText(a.state), context: { ...a.context }, calls: (a.parked ?? []).map((p) => ({ req: p.seq, call: p.call, args: p.args ?? {} })) });
    } else if (a.kind === "eventfd") {
      w.eventfds.set(n, { id: n, state: stateText(a.state), context: { ...a.context }, holders: a.holders ?? [], waiters: a.waiters ?? 0, flags: a.flags ?? "0" });
    }
  }
  return w;
}

/** A deep copy, so that replaying records onto it leaves the original alone. */
export function copyWorld(w) {
  const m = (map, f) => new Map([...map].map(([k, v]) => [k, f(v)]));
  return {
    seq: w.seq,
    gaps: w.gaps,
    ns: { state: w.ns.state, context: { ...w.ns.context } },
    procs: m(w.procs, (p) => ({ ...p, context: { ...p.context } })),
    threads: m(w.threads, (t) => ({ ...t, context: { ...t.context }, calls: [...t.calls] })),
    eventfds: m(w.eventfds, (e) => ({ ...e, context: { ...e.context } })),
  };
}

/** The state of an actor as records write it: a string, or the JSON of a nested state. */
export function stateText(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** States after which an actor is gone from the namespace (a reaped or aborted process, an ended thread, a freed eventfd). */
const FINAL = { proc: ["reaped", "aborted"], thread: ["exited"], eventfd: ['"freed"', "freed"] };

function actorOf(id) {
  const i = id.indexOf(":");
  return i < 0 ? { kind: id, n: 0 } : { kind: id.slice(0, i), n: Number(id.slice(i + 1)) };
}

/**
 * Moves the world forward by one record (in place). Records older than the world are
 * ignored; a gap in the sequence numbers (records lost to a slow reader) is counted, since
 * what the missing ones changed is then unknown.
 */
export function apply(w, r) {
  if (r.kind === "lost") {
    w.gaps += r.count;
    return w;
  }
  if (r.seq <= w.seq) return w;
  if (r.seq !== w.seq + 1) w.gaps += r.seq - w.seq - 1;
  w.seq = r.seq;
  const { kind, n } = actorOf(r.actor);
  switch (r.kind) {
    case "spawn": {
      const context = { ...(r.changes ?? {}) };
      if (kind === "proc") w.procs.set(n, { pid: n, state: r.to, context, fds: [] });
      else if (kind === "thread") w.threads.set(n, { tid: n, pid: context.pid ?? r.pid, state: r.to, context, calls: [] });
      else if (kind === "eventfd") w.eventfds.set(n, { id: n, state: r.to, context, holders: [], waiters: 0, flags: undefined });
      else if (kind === "namespace") w.ns = { state: r.to, context };
      return w;
    }
    case "transition":
    case "update": {
      const a = kind === "proc" ? w.procs.get(n) : kind === "thread" ? w.threads.get(n) : kind === "eventfd" ? w.eventfds.get(n) : kind === "namespace" ? w.ns : undefined;
      if (!a) return w;
      a.state = r.to;
      if (r.changes) Object.assign(a.context, r.changes);
      if (FINAL[kind]?.includes(r.to)) {
        if (kind === "proc") w.procs.delete(n);
        else if (kind === "thread") w.threads.delete(n);
        else if (kind === "eventfd") w.eventfds.delete(n);
      }
      return w;
    }
    case "call": {
      const t = kind === "thread" ? w.threads.get(n) : undefined;
      if (t) t.calls.push({ req: r.req, call: r.event, args: r.args ?? {} });
      return w;
    }
    case "reply": {
      const t = kind === "thread" ? w.threads.get(n) : undefined;
      if (!t) return w;
      let i = t.calls.findIndex((c) => (r.req !== undefined ? c.req === r.req : c.call === r.event));
      if (i < 0 && r.req === undefined) i = t.calls.findIndex((c) => c.call === r.event);
      if (i >= 0) t.calls.splice(i, 1);
      return w;
    }
  }
  return w;
}

/**
 * The history the page keeps: records by sequence number and the snapshots taken between
 * them. `at(n)` is the world as it was right after record n: the latest snapshot at or
 * before n, with the records after it replayed. When the history starts at record 1, the
 * empty namespace is a snapshot too (seq 0), so every record can be stepped to.
 */
export class History {
  constructor(limit = 100000) {
    this.limit = limit;
    /** Records in seq order (a lost-marker has no seq and is kept as a gap count on the next record). */
    this.records = [];
    /** Snapshots in seq order: { seq, world }. */
    this.snapshots = [];
    /** The last world asked for, to step forward from without a replay. */
    this.cache = undefined;
  }

  get first() {
    return this.records.length ? this.records[0].seq : 0;
  }

  get last() {
    const r = this.records[this.records.length - 1];
    const s = this.snapshots[this.snapshots.length - 1];
    return Math.max(r ? r.seq : 0, s ? s.seq : 0);
  }

  /** The earliest record the tree can be shown at. */
  get earliest() {
    if (this.first === 1) return 0;
    return this.snapshots.length ? this.snapshots[0].seq : this.last;
  }

  addRecord(r) {
    if (r.kind === "lost") return;
    const lastSeq = this.records.length ? this.records[this.records.length - 1].seq : 0;
    if (r.seq <= lastSeq) return;
    this.records.push(r);
    if (this.records.length > this.limit) {
      const drop = this.records.length - this.limit;
      this.records.splice(0, drop);
      const keepFrom = this.snapshots.findIndex((s) => s.seq >= this.records[0].seq);
      if (keepFrom > 1) this.snapshots.splice(0, keepFrom - 1);
      this.cache = undefined;
    }
  }

  addSnapshot(actors) {
    const world = fromSnapshot(actors);
    let i = this.snapshots.length;
    while (i > 0 && this.snapshots[i - 1].seq > world.seq) i--;
    if (i > 0 && this.snapshots[i - 1].seq === world.seq) this.snapshots[i - 1] = { seq: world.seq, world };
    else this.snapshots.splice(i, 0, { seq: world.seq, world });
    return world;
  }

  /** The index of the first record with seq > s (records are sorted). */
  indexAfter(s) {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[mid].seq <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The record with this seq, or undefined. */
  record(seq) {
    const i = this.indexAfter(seq) - 1;
    return i >= 0 && this.records[i].seq === seq ? this.records[i] : undefined;
  }

  /** The world right after record n (undefined when nothing before n is known). A copy: the caller may keep it. */
  at(n) {
    let base;
    for (let i = this.snapshots.length - 1; i >= 0 && !base; i--) if (this.snapshots[i].seq <= n) base = this.snapshots[i];
    if (!base && this.first === 1) base = { seq: 0, world: emptyWorld() };
    if (!base) return undefined;
    // Stepping forward from the last world asked for replays only the records in between.
    const c = this.cache;
    const w = c && c.base === base && c.n <= n ? c.world : copyWorld(base.world);
    const from = c && w === c.world ? c.n : base.seq;
    for (let i = this.indexAfter(from); i < this.records.length && this.records[i].seq <= n; i++) apply(w, this.records[i]);
    this.cache = { n, base, world: w };
    return copyWorld(w);
  }
}

/** The parts of a world that records and snapshots both tell, in a form to compare (tests). */
export function comparable(w) {
  const sorted = (map) => [...map.values()].sort((a, b) => (a.pid ?? a.tid ?? a.id) - (b.pid ?? b.tid ?? b.id));
  const ctx = (c) => {
    const { info: _i, children: _c, threads: _t, ...rest } = c;
    return rest;
  };
  return {
    procs: sorted(w.procs).map((p) => ({ pid: p.pid, state: p.state, context: ctx(p.context) })),
    threads: [...w.threads.values()]
      .sort((a, b) => a.tid - b.tid)
      .map((t) => ({ tid: t.tid, pid: t.pid, state: t.state, context: t.context, calls: t.calls.map((c) => `${c.call}#${c.req}`).sort() })),
    eventfds: [...w.eventfds.values()].sort((a, b) => a.id - b.id).map((e) => ({ id: e.id, state: e.state, context: e.context })),
  };
}
