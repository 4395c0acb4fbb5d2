/**
 * The record of what happened in a namespace, for `blinkd events`: every actor's
 * transitions and context updates (every event one of its actors takes, from the kernel or
 * from another actor, reported by the kernel's hook on the namespace's actor system) and
 * every guest call and its reply. The last `capacity` records are
 * kept in a ring; followers get each new one as it happens.
 */
import type { Kernel, StepSnapshot } from "./kernel.js";
import type { ProcessContext } from "../machine/process.js";
import { leaderState, threadView } from "./leader.js";
import type { ThreadContext } from "../machine/thread.js";
import { recordedChanges } from "./actorview.js";
import type { EventRecord } from "../protocol/records.js";
// The records a control call returns are declared once in the protocol (the CLI and the web view read them).
export type { EventRecord } from "../protocol/records.js";


export type Follower = (r: EventRecord) => void;

function stateText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Call arguments as a record shows them: long strings and binaries are cut, tokens hidden (as the trace printer does). */
export function argsView(args: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === "token") o[k] = "…";
    else if (v instanceof Uint8Array) o[k] = `<${v.length} bytes>`;
    else if (typeof v === "string" && v.length > 80) o[k] = v.slice(0, 77) + "...";
    else if (Array.isArray(v) && v.length > 8) o[k] = [...v.slice(0, 8), `…${v.length - 8} more`];
    else o[k] = v;
  }
  return o;
}

/**
 * What the ring holds: one shape for every record, made into an EventRecord only when read.
 * A slot is made at its first record and filled in place by every later one (a record then
 * allocates nothing of its own; a follower gets its view as it is made, before the slot is reused).
 */
interface Raw {
  seq: number;
  t: number;
  kind: EventRecord["kind"];
  /** An actor id, or a thread's tid ("thread:TID" when read): calls, replies and a process's leader thread. */
  actor: string | number;
  pid: number;
  event: string;
  from: string | undefined;
  to: string | undefined;
  args: Record<string, unknown> | undefined;
  result: number | undefined;
  /** The raw context (spawn) or the fields the event replaced, made plain only when read. */
  changes: Record<string, unknown> | undefined;
  req: number | undefined;
  /** A thread's spawn: its mask when it was spawned, joined to its context (`changes`) only when read (threadView). */
  mask: bigint | undefined;
}

function emptyRaw(): Raw {
  return { seq: 0, t: 0, kind: "call", actor: 0, pid: 0, event: "", from: undefined, to: undefined, args: undefined, result: undefined, changes: undefined, req: undefined, mask: undefined };
}

/** An actor's state and context after its last event: what the next one is compared with. */
interface Last {
  state: string;
  ctx: Record<string, unknown> | undefined;
  /** A process's leader thread (actors/leader.ts): its state and context after the process's last event. */
  leader: { state: string; ctx: object } | undefined;
}

/** The process events that stand for a thread actor's (machine/process.ts), by the thread actor's names. */
const THREAD_EVENT: Record<string, string> = { THREAD_PENDING: "PENDING", THREAD_COMM: "SET_COMM" };

/**
 * The top-level fields `next` does not share with `prev`. xstate's assign builds a new
 * context that keeps every field it did not set, so this is what the event changed; a
 * few compares, no copy, on every event.
 */
function replaced(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> | undefined {
  let o: Record<string, unknown> | undefined;
  for (const k in next) if (next[k] !== prev[k]) (o ??= {})[k] = next[k];
  return o;
}

function onlyLeader(changes: Record<string, unknown>): boolean {
  for (const k in changes) if (k !== "leader") return false;
  return true;
}

function view(r: Raw): EventRecord {
  const o: { -readonly [K in keyof EventRecord]: EventRecord[K] } = {
    seq: r.seq,
    t: Math.round(r.t),
    kind: r.kind,
    actor: typeof r.actor === "number" ? `thread:${r.actor}` : r.actor,
    pid: r.pid,
    event: r.event,
  };
  if (r.from !== undefined) o.from = r.from;
  if (r.to !== undefined) o.to = r.to;
  if (r.args !== undefined) o.args = argsView(r.args);
  if (r.result !== undefined) o.result = r.result;
  if (r.changes !== undefined) o.changes = recordedChanges(o.actor, r.mask === undefined ? r.changes : threadView(r.changes as unknown as ThreadContext, r.mask));
  if (r.req !== undefined) o.req = r.req;
  return o;
}

export class EventLog {
  private readonly ring: (Raw | undefined)[];
  private next = 0;
  private seq = 0;
  /** Each live actor's state and context after its last event (a transition's "from", an update's changes). */
  private readonly last = new WeakMap<object, Last>();
  private readonly followers = new Set<Follower>();

  constructor(
    private readonly k: Kernel,
    readonly capacity = 256,
  ) {
    this.ring = new Array(capacity);
    // The namespace actor exists already: its state is the starting point of its transitions.
    const ns = k.ns.getSnapshot();
    this.last.set(k.ns, { state: stateText(ns.value), ctx: ns.context as unknown as Record<string, unknown>, leader: undefined });
    k.addRecorder(this.onStep);
    k.addUpdateRecorder(this.onUpdate);
  }

  /** A thread's mask for its spawn record (a field of its reference: actors/leader.ts), which the kernel set before the spawn; joined to its context when read. */
  private maskOf(c: ThreadContext): bigint {
    return this.k.threads.get(c.tid)?.blocked ?? 0n;
  }

  /** A change the kernel made in place, recorded as the update the actor's event made when it took one (a thread's SET_BLOCKED, a fork's CHILD_ADD). */
  private readonly onUpdate = (actor: { readonly id: string; getSnapshot(): { value: unknown } }, pid: number, event: string, changes?: Record<string, unknown>): void => {
    this.push("update", actor.id, pid, event, undefined, stateText(actor.getSnapshot().value), undefined, undefined, changes);
  };

  /** Records one thing that happened; kept cheap, since every call and transition passes here. */
  private push(
    kind: Raw["kind"],
    actor: string | number,
    pid: number,
    event: string,
    from?: string,
    to?: string,
    args?: Record<string, unknown>,
    result?: number,
    changes?: Record<string, unknown>,
    req?: number,
    mask?: bigint,
  ): void {
    const rec = (this.ring[this.next] ??= emptyRaw());
    rec.seq = ++this.seq;
    rec.t = this.k.now();
    rec.kind = kind;
    rec.actor = actor;
    rec.pid = pid;
    rec.event = event;
    rec.from = from;
    rec.to = to;
    rec.args = args;
    rec.result = result;
    rec.changes = changes;
    rec.req = req;
    rec.mask = mask;
    if (++this.next === this.capacity) this.next = 0;
    if (this.followers.size) {
      const v = view(rec);
      for (const f of this.followers) f(v);
    }
  }

  private readonly onStep = (actor: object, ref: string, type: string, snap: StepSnapshot): void => {
    const id = ref.startsWith("proc:") || ref.startsWith("thread:") || ref.startsWith("eventfd:") ? ref : "namespace";
    const pid = id === "namespace" ? 0 : (snap.context?.pid ?? 0);
    const to = stateText(snap.value);
    const ctx = snap.context as Record<string, unknown> | undefined;
    const last = this.last.get(actor);
    const from = last?.state;
    const changes = last?.ctx && ctx && last.ctx !== ctx ? replaced(last.ctx, ctx) : undefined;
    const leaderBefore = last?.leader;
    let rec: Last | undefined;
    if (snap.status !== "active") this.last.delete(actor);
    else if (last) (last.state = to), (last.ctx = ctx), (rec = last);
    else this.last.set(actor, (rec = { state: to, ctx, leader: undefined }));
    if (type.startsWith("xstate.") && type !== "xstate.init") return;
    const proc = id.startsWith("proc:") && ctx ? (ctx as unknown as ProcessContext) : undefined;
    // The leader thread's end is recorded before its process's event, as a thread actor's EXIT came before the process's DIE.
    const leaderEnds = proc !== undefined && leaderBefore !== undefined && leaderBefore.state !== "exited" && leaderState(snap.value, proc) === "exited";
    if (proc && leaderEnds) this.leaderStep(rec, leaderBefore, type, pid, snap.value, proc);
    // The actor's first snapshot: it was spawned (xstate's own init event).
    if (type === "xstate.init") {
      const mask = id.startsWith("thread:") && ctx ? this.maskOf(ctx as unknown as ThreadContext) : undefined;
      this.push("spawn", id, pid, "spawn", undefined, to, undefined, undefined, ctx, undefined, mask);
    }
    // An event that changed only the leader thread's state is that thread's record alone.
    else if (!(from === to && changes && proc && onlyLeader(changes))) {
      if (from === to) this.push("update", id, pid, type, undefined, to, undefined, undefined, changes);
      else this.push("transition", id, pid, type, from ?? "?", to, undefined, undefined, changes);
    }
    if (proc && !leaderEnds) this.leaderStep(rec, leaderBefore, type, pid, snap.value, proc);
  };

  /**
   * A process's actor stands for its leader thread (actors/leader.ts): the records show that
   * thread as `thread:PID`, as they show any other thread, from the process's snapshots: its
   * spawn with the process, its transitions (embryo, running, exited) and its context's changes.
   */
  private leaderStep(rec: Last | undefined, before: Last["leader"], type: string, pid: number, value: unknown, c: ProcessContext): void {
    const state = leaderState(value, c);
    // `before` is most often `rec.leader` itself, updated in place: its fields are read first.
    const was = before?.state;
    const wasCtx = before?.ctx;
    if (rec?.leader) (rec.leader.state = state), (rec.leader.ctx = c.leader);
    else if (rec) rec.leader = { state, ctx: c.leader };
    // The leader's tid is its pid: a number, read as `thread:PID` (view).
    const id = pid;
    const event = THREAD_EVENT[type] ?? type;
    const ctx = c.leader as unknown as Record<string, unknown>;
    // First seen, or live again after an exit (execve from another thread: de_thread): a new thread.
    if (was === undefined || (was === "exited" && state !== "exited")) {
      if (state !== "exited") this.push("spawn", id, pid, "spawn", undefined, state, undefined, undefined, ctx, undefined, this.maskOf(c.leader));
      return;
    }
    if (was === "exited") return;
    const changes = wasCtx !== c.leader ? replaced(wasCtx as Record<string, unknown>, ctx) : undefined;
    if (was !== state) this.push("transition", id, pid, event, was, state, undefined, undefined, changes);
    else if (changes) this.push("update", id, pid, event, undefined, state, undefined, undefined, changes);
  }

  /** A call as it arrives, from thread `tid` (or, before the connection is bound, from "conn:N"). */
  call(pid: number, who: number | string, name: string, args: Record<string, unknown>, req?: number): void {
    this.push("call", who, pid, name, undefined, undefined, args, undefined, undefined, req);
  }

  reply(pid: number, tid: number, name: string, result: number, req?: number): void {
    this.push("reply", tid, pid, name, undefined, undefined, undefined, result, undefined, req);
  }

  /** The sequence number of the last record made (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** The records still in the ring, oldest first. */
  recent(pid = 0): EventRecord[] {
    const out: EventRecord[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const r = this.ring[(this.next + i) % this.capacity];
      if (r && (pid === 0 || r.pid === pid)) out.push(view(r));
    }
    return out;
  }

  follow(f: Follower): () => void {
    this.followers.add(f);
    return () => void this.followers.delete(f);
  }
}
