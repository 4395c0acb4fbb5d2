/**
 * The protocol fuzzer. Several hostile connections send generated batches (frames.ts) as
 * raw bytes over the real socket of a real daemon process, while a steady guest (PID 1)
 * makes ordinary calls alongside and checks every answer. Each reply is checked against a
 * model of the connection restated here from spec/protocol.md (roles, errno, the field the
 * error must name), not computed by the daemon's own code:
 *   - every request gets exactly one reply (a parked call: when interrupted, at the latest);
 *   - a bad request gets an error reply whose detail names the call and field;
 *   - input that cannot be framed or decoded closes that connection only, after a FATAL
 *     event saying why (a half-sent frame: a plain close);
 *   - the steady guest sees every call answered, correctly.
 */
import * as net from "node:net";
import fc from "fast-check";
import { decode, encode } from "../src/protocol/codec.js";
import { FrameReader, frame } from "../src/protocol/frame.js";
import { EVENT, EV, INTERRUPT, REPLY, REQUEST } from "../src/protocol/messages.js";
import { PROTOCOL_VERSION, callByName, type CallName } from "../src/protocol/index.js";
import { E, errnoName } from "../src/protocol/errno.js";
import { ClientConnection } from "../src/client/connection.js";
import { Control } from "../src/client/control.js";
import { SyscallError } from "../src/client/errors.js";
import type { CheckReport } from "../src/actors/invariants.js";
import { batch, type Batch, type FuzzEnv, type Killer, type Step } from "./frames.js";

const ERESTARTSYS = 512;
const WNOHANG = 1;
/** Not a call: the sync request every batch ends with gets ENOSYS in every state. */
const SYNC_NR = 999;
/** A hang, not a slow daemon: no reply or close for this long is a failure. */
const HANG_MS = 60_000;

export interface FuzzOptions {
  readonly socket: string;
  /** Frames to send in all (hostile connections; the steady guest's calls are counted apart). */
  readonly frames: number;
  readonly seed: number;
  /** A host process that fuzzed register calls may name (the daemon may signal it). */
  readonly hostpid: number;
  /** Hostile connections at once. */
  readonly workers?: number;
  readonly maxFrame?: number;
  readonly progress?: (s: FuzzStats) => void;
}

export interface FuzzStats {
  frames: number;
  bytes: number;
  batches: number;
  connections: number;
  /** Connections the daemon closed with a FATAL event saying why. */
  fatalCloses: number;
  /** Connections closed after a half-sent frame (no event owed). */
  plainCloses: number;
  errorReplies: number;
  okReplies: number;
  /** Replies whose errno and named field were checked exactly. */
  exactChecks: number;
  interruptsSent: number;
  /** Parked calls answered after an interrupt or a child's change. */
  parkedAnswered: number;
  steadyCalls: number;
  steadyValuesChecked: number;
  steadyInterrupts: number;
  /** Orphans the steady guest (PID 1) reaped. */
  steadyReaped: number;
  /** Daemon-started events (signals) seen by hostile connections. */
  events: number;
}

export interface FuzzResult {
  readonly stats: FuzzStats;
  readonly failures: string[];
  readonly check: CheckReport;
}

type State = "new" | "unbound" | "guest" | "control" | "ended";

interface Sent {
  /** Position in the connection's stream: the daemon handles requests in this order. */
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly step: Step | { t: "sync" } | { t: "prefix"; call: string; args: unknown[] };
  readonly blocking: boolean;
}

interface Msg {
  kind: "reply" | "fatal" | "event";
  seq?: number;
  result?: number | bigint;
  rest?: unknown[];
  text?: string;
}

/** A raw client connection: bytes out, decoded messages in, and the close. */
class Raw {
  private readonly reader = new FrameReader(64 << 20);
  readonly closed: Promise<void>;
  isClosed = false;
  /** The socket's own error (EPIPE, ECONNRESET), if it had one before its close. */
  error: string | undefined;
  onMsg: (m: Msg) => void = () => {};
  onBad: (why: string) => void = () => {};

  private constructor(readonly sock: net.Socket) {
    this.closed = new Promise((resolve) => sock.once("close", () => ((this.isClosed = true), resolve())));
    sock.on("error", (e: NodeJS.ErrnoException) => void (this.error ??= e.code ?? e.message));
    sock.on("data", (chunk: Buffer) => {
      try {
        this.reader.push(chunk, (body) => this.onMsg(classify(decodeReply(body))));
      } catch (e) {
        this.onBad(`undecodable bytes from the daemon: ${(e as Error).message}`);
        sock.destroy();
      }
    });
  }

  static open(path: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once("connect", () => resolve(new Raw(s)));
      s.once("error", reject);
    });
  }

  write(b: Buffer, pieces = 1): void {
    if (pieces <= 1 || b.length < 2) return void this.sock.write(b);
    const step = Math.max(1, Math.ceil(b.length / pieces));
    for (let i = 0; i < b.length; i += step) this.sock.write(b.subarray(i, i + step));
  }
}

function decodeReply(body: Buffer): unknown {
  return decode(body);
}

function classify(m: unknown): Msg {
  if (!Array.isArray(m)) return { kind: "event", text: `not an array: ${typeof m}` };
  if (m[0] === REPLY) return { kind: "reply", seq: m[1] as number, result: m[2] as number | bigint, rest: m.slice(3) };
  if (m[0] === EVENT && m[1] === EV.FATAL) return { kind: "fatal", text: String(m[2]) };
  // Events may carry 64-bit values (an eventfd_write's value in a call record): JSON has no bigint.
  return { kind: "event", text: JSON.stringify(m, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) };
}

function lengthPrefixed(body: Buffer, claimed = body.length): Buffer {
  const b = Buffer.allocUnsafe(4 + body.length);
  b.writeUInt32BE(claimed >>> 0, 0);
  body.copy(b, 4);
  return b;
}

function deepArray(depth: number): Buffer {
  // [[[…[]…]]]: depth fixarray headers of one element, then an empty array.
  const b = Buffer.alloc(depth + 1, 0x91);
  b[depth] = 0x90;
  return b;
}

/** The errno a well-typed call must get in this state, restating the roles of spec/protocol.md; undefined: any result. */
function permitted(call: string, args: unknown[], state: State): { errno?: number; close?: boolean } | undefined {
  const def = callByName(call as CallName);
  if (call === "hello") {
    if (state !== "new") return { errno: E.EPROTO };
    if (args[0] !== PROTOCOL_VERSION) return { errno: E.EPROTO, close: true };
    if (args[1] !== "guest" && args[1] !== "control") return { errno: E.EINVAL, close: true };
    return undefined;
  }
  if (state === "new") return { errno: E.EPROTO };
  switch (def.role) {
    case "unbound":
      return state === "unbound" ? undefined : { errno: state === "control" ? E.EPERM : E.EPROTO };
    case "guest":
      return state === "control" ? { errno: E.EPERM } : state === "unbound" ? { errno: E.EPROTO } : state === "ended" ? { errno: E.ESRCH } : undefined;
    case "control":
      return state === "control" ? undefined : { errno: E.EPERM };
    default:
      return undefined;
  }
}

class Episode {
  /** The connection's state as each request found it: (position of the request that changed it, new state). */
  private readonly history: Array<{ at: number; state: State }> = [{ at: -1, state: "new" }];
  private sentCount = 0;
  private seq = 0;
  private readonly pending = new Map<number, Sent[]>();
  /** Blocking calls without a reply yet. */
  readonly parked = new Set<number>();
  private readonly interrupted = new Set<number>();
  private fatal: string | undefined;
  /** A request reused a parked call's seq: a FATAL "reused" close is then allowed. */
  reuseSent = false;
  private closeExpected: string | undefined;
  private waiters: Array<() => void> = [];
  private readonly raw: Raw;

  constructor(
    raw: Raw,
    private readonly stats: FuzzStats,
    private readonly fail: (s: string) => void,
    private readonly tag: string,
  ) {
    this.raw = raw;
    raw.onMsg = (m) => this.onMsg(m);
    raw.onBad = (why) => this.fail(`${this.tag}: ${why}`);
    void raw.closed.then(() => this.poke());
  }

  private stateAt(at: number): State {
    let best = this.history[0]!;
    for (const h of this.history) if (h.at < at && h.at >= best.at) best = h;
    return best.state;
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds (checked on every message and on close). */
  until(cond: () => boolean, what: string): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.fail(`${this.tag}: hang: ${what} did not happen within ${HANG_MS} ms`);
        resolve(false);
      }, HANG_MS);
      const check = (): void => {
        if (cond()) {
          clearTimeout(t);
          resolve(true);
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  get closed(): boolean {
    return this.raw.isClosed;
  }
  get socketError(): string | undefined {
    return this.raw.error;
  }
  get fatalMessage(): string | undefined {
    return this.fatal;
  }
  get expectClose(): string | undefined {
    return this.closeExpected;
  }
  hasPending(seq: number): boolean {
    return this.pending.has(seq);
  }
  get pendingCount(): number {
    return this.pending.size;
  }

  nextSeq(): number {
    return (this.seq = (this.seq + 1) >>> 0);
  }

  /** Encodes a request and records what must answer it. */
  request(seq: number, nr: unknown, args: unknown[], step: Sent["step"], label: string, blocking: boolean): Buffer {
    const list = this.pending.get(seq);
    const s: Sent = { at: this.sentCount++, seq, label, step, blocking };
    if (list) list.push(s);
    else this.pending.set(seq, [s]);
    if (blocking) this.parked.add(seq);
    return frame([REQUEST, seq, nr, ...args]);
  }

  interrupt(seq: number): Buffer {
    this.stats.interruptsSent++;
    this.interrupted.add(seq);
    return frame([INTERRUPT, seq]);
  }

  /** The last messages received, for a failure's report. */
  readonly seen: string[] = [];

  private onMsg(m: Msg): void {
    this.seen.push(m.kind === "reply" ? `reply ${m.seq} ${String(m.result)}${typeof m.rest?.[0] === "string" ? ` ${m.rest[0]}` : ""}` : `${m.kind} ${m.text}`);
    if (this.seen.length > 6) this.seen.shift();
    if (m.kind === "fatal") {
      if (!m.text) this.fail(`${this.tag}: a FATAL event without a message`);
      this.fatal = m.text ?? "";
    } else if (m.kind === "event") {
      // Events the daemon starts (a signal a fuzzed kill sent this process) are not replies.
      this.stats.events++;
    } else this.onReply(m.seq!, m.result!, m.rest!);
    this.poke();
  }

  private onReply(seq: number, result: number | bigint, rest: unknown[]): void {
    const list = this.pending.get(seq);
    const sent = list?.shift();
    if (!sent) return this.fail(`${this.tag}: a reply for seq ${seq}, which has no request waiting (duplicate or invented)`);
    if (list!.length === 0) this.pending.delete(seq);
    if (sent.blocking) {
      this.parked.delete(seq);
      if (this.interrupted.delete(seq)) this.stats.parkedAnswered++;
    }
    if (this.closeExpected) this.fail(`${this.tag}: a reply to ${sent.label} after the reply that closes the connection`);
    // A parked call may be answered after later calls changed the connection: judge it by the state it was handled in.
    const state = this.stateAt(sent.at);
    const become = (st: State): void => void this.history.push({ at: sent.at, state: st });
    const neg = result < 0;
    if (neg) this.stats.errorReplies++;
    else this.stats.okReplies++;
    const code = neg ? -Number(result) : 0;
    const detail = typeof rest[0] === "string" ? rest[0] : undefined;
    const bad = (want: string): void => this.fail(`${this.tag}: ${sent.label} in state ${state}: expected ${want}, got ${neg ? errnoName(code) : result}${detail ? ` (${detail})` : ""}`);
    const exact = (errno: number, names?: string): void => {
      this.stats.exactChecks++;
      if (code !== errno) return bad(errnoName(errno));
      if (names !== undefined && !(detail ?? "").includes(names)) bad(`${errnoName(errno)} naming ${names}`);
    };
    const st = sent.step;
    switch (st.t) {
      case "badField":
        return exact(E.EINVAL, `${st.call}.${st.field}`);
      case "arity":
        return exact(E.EINVAL, st.call);
      case "unknownNr":
      case "sync":
        return exact(E.ENOSYS, String(st.t === "sync" ? SYNC_NR : st.nr));
      case "badNr":
        return exact(E.EINVAL, "nr");
      case "park":
        // A fuzzed kill from another connection may end this thread while its call is parked.
        if (neg && code === E.ESRCH && (detail ?? "").includes("has ended")) return become("ended");
        if (neg && code !== E.ECHILD && code !== ERESTARTSYS && code !== E.EAGAIN) {
          const p = permitted("wait4", [], state);
          if (!p || p.errno !== code) bad("a reaped child, ECHILD, EAGAIN (parked-call limit) or ERESTARTSYS");
        }
        return;
      case "reuseParked":
        if (!(neg && code === E.ENOSYS)) bad("ENOSYS (the reused seq's request was a sync)");
        return;
      case "call":
      case "prefix": {
        const p = permitted(st.call, st.args, state);
        if (p) {
          exact(p.errno!);
          if (p.close) this.closeExpected = `${st.call} failed before the handshake completed`;
          return;
        }
        if (neg) {
          // ESRCH "has ended": the thread ended meanwhile (exit of this thread by another path).
          if (code === E.ESRCH && (detail ?? "").includes("has ended")) become("ended");
          else if (code === E.EINVAL || code === E.EPROTO || code === E.EPERM) {
            if (!detail) bad("an error naming what was wrong");
          }
          return;
        }
        // Successful calls that change what the connection is.
        if (st.call === "hello") become(st.args[1] === "guest" ? "unbound" : "control");
        else if (st.call === "register" || st.call === "claim" || st.call === "claim_fd") become("guest");
        else if (st.call === "exit" || st.call === "exit_group" || st.call === "exec_native") become("ended");
        return;
      }
      default:
        return bad("no reply at all");
    }
  }

  /** After a sync reply: every non-blocking request sent before it has been answered (replies are in order). */
  checkAnsweredBefore(syncSeq: number): void {
    for (const list of this.pending.values())
      for (const s of list) if (!s.blocking && s.seq !== syncSeq && s.step.t !== "sync") this.fail(`${this.tag}: no reply to ${s.label} (seq ${s.seq}) before the sync that followed it`);
  }
}

/** Builds the bytes of one step; returns undefined when the step does not apply (nothing parked). */
function stepBytes(ep: Episode, s: Step): Buffer | undefined {
  switch (s.t) {
    case "call": {
      const c = callByName(s.call as CallName);
      const seq = ep.nextSeq();
      return ep.request(seq, c.nr, s.args, s, `${s.call}(${short(s.args)})`, c.blocks);
    }
    case "badField":
    case "arity": {
      const c = callByName(s.call as CallName);
      const seq = ep.nextSeq();
      return ep.request(seq, c.nr, s.args, s, `${s.call}(${short(s.args)}) [${s.t === "badField" ? `bad ${s.field}` : "arity"}]`, false);
    }
    case "unknownNr":
      return ep.request(ep.nextSeq(), s.nr, [], s, `call #${s.nr}`, false);
    case "badNr":
      return ep.request(ep.nextSeq(), s.nr, [], s, `call #${String(s.nr)}`, false);
    case "interruptUnknown":
      return ep.interrupt(ep.nextSeq() + 1_000_000 + s.delta);
    case "park":
      return ep.request(ep.nextSeq(), callByName("wait4").nr, [-1, 0], s, "wait4(-1, 0)", true);
    case "interruptParked": {
      const seq = [...ep.parked][0];
      return seq === undefined ? undefined : ep.interrupt(seq);
    }
    case "reuseParked": {
      const seq = [...ep.parked][0];
      if (seq === undefined) return undefined;
      ep.reuseSent = true;
      return ep.request(seq, SYNC_NR, [], s, `reuse of parked seq ${seq}`, false);
    }
  }
}

function short(args: unknown[]): string {
  const s = args.map((a) => (typeof a === "bigint" ? `${a}n` : a instanceof Uint8Array ? `bin${a.length}` : typeof a === "string" ? JSON.stringify(a.slice(0, 12)) : Array.isArray(a) ? `[${a.length}]` : typeof a === "object" && a !== null ? "{…}" : String(a))).join(", ");
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

function prefixSteps(p: Batch["prefix"], env: FuzzEnv): Array<{ call: string; args: unknown[] }> {
  const hello = (role: string) => ({ call: "hello", args: [PROTOCOL_VERSION, role, "fuzz"] });
  const reg = { call: "register", args: [env.hostpid, "/fuzz", ["fuzz"], 0] };
  switch (p) {
    case "none":
      return [];
    case "guest":
      return [hello("guest")];
    case "control":
      return [hello("control")];
    case "registered":
      return [hello("guest"), reg];
    case "parent":
      return [hello("guest"), reg, { call: "fork", args: [] }];
  }
}

/** Runs one batch on a fresh connection. Returns the number of frames written. */
async function runBatch(socket: string, b: Batch, env: FuzzEnv, stats: FuzzStats, fail: (s: string) => void, tag: string, maxFrame: number): Promise<void> {
  const raw = await Raw.open(socket);
  stats.connections++;
  const ep = new Episode(raw, stats, fail, tag);
  const parts: Buffer[] = [];
  let frames = 0;
  for (const p of prefixSteps(b.prefix, env)) {
    const c = callByName(p.call as CallName);
    parts.push(ep.request(ep.nextSeq(), c.nr, p.args, { t: "prefix", ...p }, `${p.call} (prefix)`, false));
    frames++;
  }
  for (const s of b.steps) {
    const bytes = stepBytes(ep, s);
    if (!bytes) continue;
    parts.push(bytes);
    frames++;
  }
  const syncSeq = ep.nextSeq();
  parts.push(ep.request(syncSeq, SYNC_NR, [], { t: "sync" }, "sync", false));
  frames++;
  const body = Buffer.concat(parts);
  raw.write(body, b.pieces);
  stats.bytes += body.length;
  stats.frames += frames;

  // The sync's reply (or the close a failed hello asked for).
  await ep.until(() => !ep.hasPending(syncSeq) || ep.closed || ep.fatalMessage !== undefined, "the sync reply");
  if (ep.fatalMessage !== undefined) {
    if (ep.reuseSent && ep.fatalMessage.includes("reused")) {
      stats.fatalCloses++;
      await ep.until(() => ep.closed, "the close after a reused seq");
      return;
    }
    fail(`${tag}: FATAL for frames that were all well framed: ${ep.fatalMessage}`);
  }
  if (ep.expectClose || ep.closed) {
    if (!ep.expectClose) fail(`${tag}: the daemon closed the connection with no reason; the batch: ${b.prefix} ${b.steps.map((s) => ("call" in s ? `${s.t}:${s.call}` : s.t)).join(" ")}; last messages: ${ep.seen.join(" | ")}; socket error: ${ep.socketError ?? "none"}`);
    await ep.until(() => ep.closed, "the close after a failed hello");
    raw.sock.destroy();
    return;
  }
  ep.checkAnsweredBefore(syncSeq);

  const k = b.killer;
  if (k) {
    const { bytes, expect } = killerBytes(k, maxFrame);
    stats.frames++;
    stats.bytes += bytes.length;
    if (expect === "plain") {
      raw.sock.end(bytes);
      await ep.until(() => ep.closed, `the close after ${k.t}`);
      if (ep.fatalMessage !== undefined) fail(`${tag}: a half-sent frame (${k.t}) got a FATAL event: ${ep.fatalMessage}`);
      stats.plainCloses++;
      return;
    }
    if (expect === "fatal") {
      raw.write(bytes);
      await ep.until(() => ep.closed, `the FATAL close after ${k.t}`);
      if (ep.fatalMessage === undefined) fail(`${tag}: ${k.t} closed the connection without a FATAL event saying why`);
      else stats.fatalCloses++;
      if (k.t === "oversize" && !ep.fatalMessage?.includes("over the limit")) fail(`${tag}: oversize frame: FATAL does not say it is over the limit: ${ep.fatalMessage}`);
      return;
    }
    // Random bytes: they may even decode as a harmless message; either the connection is
    // closed with a reason, or a sync behind them is answered.
    const seq2 = ep.nextSeq();
    raw.write(Buffer.concat([bytes, ep.request(seq2, SYNC_NR, [], { t: "sync" }, "sync after garbage", false)]));
    await ep.until(() => !ep.hasPending(seq2) || ep.closed, "the garbage's close or the sync behind it");
    if (ep.closed) {
      if (ep.fatalMessage === undefined) fail(`${tag}: garbage closed the connection without a FATAL event`);
      else stats.fatalCloses++;
      return;
    }
    raw.sock.destroy();
    return;
  }
  // Every parked call is answered once interrupted.
  if (ep.parked.size) {
    const ints = [...ep.parked].map((s) => ep.interrupt(s));
    raw.write(Buffer.concat(ints));
    stats.frames += ints.length;
    await ep.until(() => ep.pendingCount === 0 || ep.closed, "replies to the interrupted parked calls");
    if (ep.closed) fail(`${tag}: the connection closed while interrupted calls were owed replies`);
  }
  raw.sock.destroy();
}

function killerBytes(k: Killer, maxFrame: number): { bytes: Buffer; expect: "fatal" | "plain" | "either" } {
  const req = encode([REQUEST, 77, SYNC_NR]);
  switch (k.t) {
    case "garbage":
      return { bytes: lengthPrefixed(Buffer.from(k.bytes)), expect: "either" };
    case "empty":
      return { bytes: lengthPrefixed(Buffer.alloc(0)), expect: "fatal" };
    case "oversize": {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Math.min(0xffffffff, maxFrame + k.extra), 0);
      return { bytes: b, expect: "fatal" };
    }
    case "badShape":
      return { bytes: lengthPrefixed(encode(k.value)), expect: "fatal" };
    case "trailing":
      return { bytes: lengthPrefixed(Buffer.concat([req, Buffer.from(k.extra)])), expect: "fatal" };
    case "deep":
      return { bytes: lengthPrefixed(deepArray(k.depth)), expect: "fatal" };
    case "truncate":
      return { bytes: lengthPrefixed(req).subarray(0, Math.min(k.keep, 3 + req.length)), expect: "plain" };
    case "lieLong":
      return { bytes: lengthPrefixed(req, req.length + k.extra), expect: "plain" };
    case "lieShort":
      return { bytes: lengthPrefixed(req.subarray(0, Math.max(1, req.length - k.cut)), Math.max(1, req.length - k.cut)), expect: "fatal" };
  }
}

/** The steady guest: PID 1 of the namespace, making ordinary calls and checking every answer. */
async function steady(socket: string, hostpid: number, stats: FuzzStats, fail: (s: string) => void, done: () => boolean): Promise<ClientConnection> {
  const c = await ClientConnection.open(socket);
  await c.hello("guest", "fuzz steady");
  const pid = (await c.call("register", { hostpid, exe: "/steady", argv: ["steady"], delivery: 0 })).result;
  if (pid !== 1) fail(`steady: registered as ${pid}, not PID 1 (was the daemon fresh?)`);
  const want = (what: string, got: unknown, exp: unknown): void => {
    stats.steadyValuesChecked++;
    if (got !== exp) fail(`steady: ${what} = ${String(got)}, expected ${String(exp)}`);
  };
  const call = async <N extends CallName>(name: N, args: Parameters<typeof c.call<N>>[1], opts: { signal?: AbortSignal } = {}) => {
    stats.steadyCalls++;
    return c.call(name, args, opts);
  };
  try {
    for (let i = 0; !done(); i++) {
      want("getpid", (await call("getpid", {})).result, pid);
      want("gettid", (await call("gettid", {})).result, pid);
      want("getppid", (await call("getppid", {})).result, 0);
      // Reap every zombie the fuzzers orphaned (their unclaimed children come to init and
      // die when their reservation expires), as an init's SIGCHLD loop does: until none is left.
      for (;;) {
        try {
          const r = await call("wait4", { pid: -1, options: WNOHANG });
          stats.steadyValuesChecked++;
          if (r.result < 0) fail(`steady: wait4 returned ${r.result}`);
          if (r.result <= 0) break;
          stats.steadyReaped++;
        } catch (e) {
          if (!(e instanceof SyscallError && e.errno === E.ECHILD)) throw e;
          break;
        }
      }
      if (i % 4 === 0) {
        // A parked wait for an unclaimed child, interrupted: EINTR, then the fork is undone.
        let child: number;
        try {
          child = (await call("fork", {})).result;
        } catch (e) {
          if (e instanceof SyscallError && e.errno === E.EAGAIN) continue;
          throw e;
        }
        const ac = new AbortController();
        const w = call("wait4", { pid: child, options: 0 }, { signal: ac.signal });
        // The wait is parked once a later call on the same connection is answered (in order).
        want("gettid", (await call("gettid", {})).result, pid);
        ac.abort();
        stats.steadyInterrupts++;
        try {
          const r = await w;
          want("wait4 pid (the child expired meanwhile)", r.result, child);
        } catch (e) {
          if (!(e instanceof SyscallError && e.errno === E.EINTR)) throw e;
          stats.steadyValuesChecked++;
        }
        try {
          await call("fork_abort", { pid: child });
          stats.steadyValuesChecked++;
        } catch (e) {
          if (!(e instanceof SyscallError && e.errno === E.ESRCH)) throw e;
        }
      }
    }
  } catch (e) {
    fail(`steady: ${(e as Error).message}`);
  }
  return c;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const stats: FuzzStats = {
    frames: 0,
    bytes: 0,
    batches: 0,
    connections: 0,
    fatalCloses: 0,
    plainCloses: 0,
    errorReplies: 0,
    okReplies: 0,
    exactChecks: 0,
    interruptsSent: 0,
    parkedAnswered: 0,
    steadyCalls: 0,
    steadyValuesChecked: 0,
    steadyInterrupts: 0,
    steadyReaped: 0,
    events: 0,
  };
  const failures: string[] = [];
  const fail = (s: string): void => void (failures.length < 50 && failures.push(s));
  const env: FuzzEnv = { hostpid: o.hostpid };
  const maxFrame = o.maxFrame ?? 1 << 20;
  const arb = batch(env);
  let finished = false;
  // The steady guest registers first, so that it is PID 1; the fuzzers start once it has.
  const steadyRun = steady(o.socket, o.hostpid, stats, fail, () => finished);
  while (stats.steadyCalls === 0 && failures.length === 0) await new Promise((r) => setTimeout(r, 5));

  let nextSeed = o.seed;
  let queue: Batch[] = [];
  const take = (): Batch => {
    if (queue.length === 0) queue = fc.sample(arb, { seed: nextSeed++, numRuns: 64 });
    return queue.pop()!;
  };
  const worker = async (w: number): Promise<void> => {
    while (stats.frames < o.frames && failures.length === 0) {
      const b = take();
      const n = stats.batches++;
      await runBatch(o.socket, b, env, stats, fail, `worker ${w} batch ${n} (seed ${nextSeed - 1})`, maxFrame).catch((e) => fail(`worker ${w}: ${(e as Error).message}`));
      if (n % 500 === 0) o.progress?.(stats);
    }
  };
  await Promise.all(Array.from({ length: o.workers ?? 4 }, (_, w) => worker(w)));
  finished = true;
  const init = await steadyRun;
  // The hostile connections are closed; the daemon has seen their ends once a call made after them is answered.
  const ctl = await Control.connect(o.socket);
  const check = await ctl.check();
  ctl.close();
  init.close();
  return { stats, failures, check };
}
