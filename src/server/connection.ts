/**
 * One client connection: framing, decoding, the role and identity bound at the handshake,
 * dispatch, replies, and the ledger of its parked calls. One connection is one guest
 * thread; its close without an exit is that thread's death.
 */
import type * as net from "node:net";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import * as FiberId from "effect/FiberId";
import { FrameReader, FrameError, frame } from "../protocol/frame.js";
import { decode } from "../protocol/codec.js";
import { EVENT, REPLY, parseIncoming, type Request } from "../protocol/messages.js";
import { eventMessage } from "../protocol/events.js";
import { E, ERESTARTSYS, Errno, errno } from "../protocol/errno.js";
import type { CallEntry } from "../protocol/index.js";
import { traceCall, traceInterrupt, traceReply } from "../protocol/trace.js";
import type { Caller, CallCtx } from "../syscalls/types.js";
import { dispatch } from "../syscalls/index.js";
import { finishDeath } from "../actors/signal.js";
import type { ServerCore } from "./core.js";
import { argsView } from "../actors/eventlog.js";
import { secret } from "../actors/secrets.js";
import { provesHost, provesHostAt } from "./hostproof.js";
import { Parked } from "../actors/park.js";
import type { Deadline } from "./deadlines.js";

/** Interrupted before completing: the client returns EINTR, or restarts the call when the guest's handler has SA_RESTART (the kernel's ERESTARTSYS). */
export { ERESTARTSYS };

/** Replies batched past this many bytes go to the socket before the next request is handled. */
const FLUSH_AT = 16384;

const interruptible = <A, E>(e: Effect.Effect<A, E>): Effect.Effect<A, E> => Effect.interruptible(e);

export class Connection implements Caller {
  role: Caller["role"] = "new";
  pid = 0;
  tid = 0;
  hostpid = 0;
  /** The thread has ended (exit, exit_group, exec into native code): no more guest calls. */
  ended = false;
  /** The process left emulation: closing this connection is not a death. */
  detached = false;
  private closeAfter = false;
  private closed = false;
  /** Reading is paused until the client reads its replies. */
  private paused = false;
  /**
   * The seq of a claim parked on this unbound connection (a vfork child's claim_vfork waiting
   * for its parent's reservation): the frames after it wait until it is answered, so that a
   * client which sends on without reading the claim's reply (spec/protocol.md §7.4.1) has them
   * handled in order, as the thread the claim binds, as they would be had the claim not waited.
   */
  private heldBy: number | undefined;
  /**
   * Frames written while one chunk of input is handled: they go out together in one write
   * when the chunk is done (a pipelining client gets its replies in one syscall), without
   * the cost of cork/uncork and writev for the usual single reply.
   */
  private outgoing: Buffer[] | undefined;
  private outgoingBytes = 0;
  private readonly reader: FrameReader;
  /** Calls parked on this connection; `cancel` interrupts one (its reply, if any, is ERESTARTSYS). */
  private readonly parked = new Map<number, { call: CallEntry; args: Record<string, unknown>; cancel: () => void }>();
  private readonly ctx: CallCtx;
  /** Until the hello: the handshake's deadline (limits.handshakeTimeoutMs, one timer for all connections: core.hellos). */
  private handshake: Deadline | undefined;
  /** Runs while a frame is unfinished (limits.frameTimeoutMs). */
  private frameTimer: NodeJS.Timeout | undefined;
  readonly id: number;
  readonly nonce = secret();

  constructor(
    readonly sock: net.Socket,
    readonly core: ServerCore,
    /** Accepted past maxConnections: only a control client may use it (limits.controlReserve). */
    readonly controlOnly = false,
  ) {
    this.id = core.newConnectionId();
    this.reader = new FrameReader(core.limits.maxFrame);
    this.ctx = { k: core.kernel, caller: this, interruptible, daemon: core };
    // Judged after the poll phase (setImmediate): when the event loop was busy for longer than
    // the timeout, the timer runs before the hello already waiting in the socket is read.
    this.handshake = core.hellos.set(() => setImmediate(() => this.role === "new" && this.fatal(`no hello within ${core.limits.handshakeTimeoutMs} ms`)));
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    // The client's end of the stream (its host process ended, or it closed the connection).
    // Node.js would next end the daemon's side with shutdown(2), a FIN to a peer that has
    // closed, and a write request whose callbacks then close the socket: once per process.
    // With nothing left to write the socket is closed at once, as that path would close it
    // (what is still queued, a client that half-closed and still reads, takes that path).
    sock.on("end", () => {
      if (sock.writableLength === 0) sock.destroy();
    });
    sock.on("close", () => this.onClose());
    sock.on("error", () => {});
  }

  get who(): string {
    return this.role === "guest" ? `[${this.pid}/${this.tid}]` : this.role === "control" ? `[ctl ${this.id}]` : `[conn ${this.id}]`;
  }

  /** Bytes of an unfinished frame held for this connection. */
  get bufferedBytes(): number {
    return this.closeHandled ? 0 : this.reader.buffered;
  }

  get parkedCount(): number {
    return this.parked.size;
  }

  private onData(chunk: Buffer): void {
    if (!this.closed) this.feed(chunk);
  }

  /** Decodes and handles the whole frames in `chunk` (with what was buffered before it). */
  private feed(chunk: Buffer): void {
    const before = this.reader.buffered;
    this.outgoing = [];
    let frames = 0;
    try {
      this.reader.push(chunk, (body) => {
        frames++;
        let msg: unknown;
        try {
          msg = decode(body);
        } catch (e) {
          throw new FrameError(`malformed msgpack: ${(e as Error).message}`);
        }
        this.handle(msg);
        // A client that does not read its replies: stop handling its requests until they
        // drain (what is batched goes to the socket first once it is worth a write).
        if (this.outgoingBytes >= FLUSH_AT) this.flush();
        return !this.closed && !this.sock.writableNeedDrain && this.heldBy === undefined;
      });
    } catch (e) {
      this.fatal(e instanceof FrameError ? e.message : `internal error: ${(e as Error).message}`);
    } finally {
      this.flush();
      this.outgoing = undefined;
    }
    if (this.closed) return;
    const held = this.reader.buffered;
    const over = this.core.holdBuffered(held - before);
    if (over) return this.fatal(over);
    this.frameDeadline(held, frames);
    // Held behind a parked claim: what comes meanwhile stays in the socket (bounded by it).
    if (this.heldBy !== undefined && !this.paused) this.sock.pause();
    if (this.sock.writableNeedDrain && !this.paused) {
      this.paused = true;
      this.sock.pause();
      this.sock.once("drain", () => {
        this.paused = false;
        if (this.closed) return;
        this.feed(Buffer.alloc(0));
        if (!this.stopped) this.sock.resume();
      });
    }
  }

  /**
   * A frame's deadline runs from the chunk that began it: a client that sends part of a frame
   * and stops would otherwise hold its buffer and its slot forever. Cleared when nothing is
   * held, restarted when a chunk finished a frame and began another; none while the daemon
   * itself stopped reading (a client that does not read its replies: `paused`; frames held
   * behind a parked claim: `heldBy`).
   */
  private frameDeadline(held: number, frames: number): void {
    if (this.frameTimer && (held === 0 || frames > 0 || this.stopped)) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
    if (held === 0 || this.stopped || this.frameTimer) return;
    const ms = this.core.limits.frameTimeoutMs;
    // Judged after the poll phase, as the handshake's: the rest of the frame may be waiting in the socket.
    this.frameTimer = setTimeout(() => setImmediate(() => this.frameTimer && !this.stopped && this.reader.buffered > 0 && this.fatal(`a frame was begun and not finished within ${ms} ms (${this.reader.buffered} bytes held)`)), ms);
    this.frameTimer.unref();
  }

  /** The daemon reads nothing more of this connection for now. */
  private get stopped(): boolean {
    return this.paused || this.heldBy !== undefined;
  }

  /** The parked claim was answered: the frames held behind it are handled, then reading goes on. */
  private release(): void {
    this.heldBy = undefined;
    // Not inside the step that answered the claim (another connection's call, its k.running).
    setImmediate(() => {
      if (this.closed) return;
      this.feed(Buffer.alloc(0));
      if (!this.stopped) this.sock.resume();
    });
  }

  private handle(msg: unknown): void {
    const m = parseIncoming(msg);
    switch (m.kind) {
      case "fatal":
        return this.fatal(m.message);
      case "bad-request":
        if (this.parked.has(m.seq)) return this.fatal(`seq ${m.seq} reused while that call is parked`);
        if (m.posted) return this.dropPosted(m.seq, undefined, m.error);
        return this.send(m.seq, undefined, m.error);
      case "interrupt":
        return this.interrupt(m.seq);
      case "request":
        return this.request(m.req);
    }
  }

  private request(req: Request): void {
    const { seq, call, posted } = req;
    const send = posted ? this.dropPosted : this.send;
    if (this.parked.has(seq)) return this.fatal(`seq ${seq} reused while that call is parked`);
    if (this.core.trace) this.core.log(traceCall(this.who, seq, call, req.args));
    const k = this.core.kernel;
    // A process a fatal signal doomed dies as it would on its way back to user mode, before
    // another call of its own (its calls are then ESRCH).
    if (this.role === "guest") finishDeath(k, this.pid);
    const denied = this.permit(call);
    if (denied) return send.call(this, seq, call, denied);
    if (this.role === "guest" || this.role === "unbound") this.core.events.call(this.pid, this.role === "guest" ? this.tid : `conn:${this.id}`, call.name, req.args, seq);
    // The caller is the process running now (actors/signal.ts killProcess: who dies before the reply).
    k.running = this.role === "guest" ? this.pid : 0;
    let out: ReturnType<NonNullable<ReturnType<typeof dispatch.get>>>;
    try {
      out = dispatch.get(call.nr)!(this.ctx, req.args);
    } finally {
      k.running = 0;
    }
    if (out instanceof Parked) {
      // A post never blocks (parseIncoming refuses it), and past the limit a wait is refused:
      // either way the wait is cancelled unstarted, so what it holds (an eventfd) is released.
      const refused = posted ? errno(E.EINVAL, `${call.name} may block: it cannot be posted`) : this.parked.size >= this.core.limits.maxParked ? this.tooManyParked() : undefined;
      if (!refused) {
        // An unbound connection's later frames are the thread's the claim binds: they wait for it.
        if (this.role === "unbound") this.heldBy = seq;
        return this.parkWait(seq, call, out, req.args);
      }
      out.cancel();
      return send.call(this, seq, call, refused);
    }
    // An Errno is data, but Data.TaggedError makes it a yieldable Effect too: test it first,
    // or every failed call (wait4's ECHILD) would be run on a fiber of its own and count as parked.
    if (out instanceof Errno || !Effect.isEffect(out)) return send.call(this, seq, call, out);
    // A post is never a call that blocks (parseIncoming); one written as an Effect runs to its end, its outcome dropped.
    if (posted) return this.runPosted(seq, call, out as Effect.Effect<unknown, Errno>);
    if (this.parked.size >= this.core.limits.maxParked) return this.send(seq, call, this.tooManyParked());
    this.park(seq, call, out as Effect.Effect<unknown, Errno>, req.args);
  }

  private tooManyParked(): Errno {
    return errno(E.EAGAIN, `more than ${this.core.limits.maxParked} parked calls on one connection`);
  }

  /**
   * A wait on plain callbacks (actors/park.ts): its reply is written in the synchronous step
   * that takes its value, and a cancel before that step replies ERESTARTSYS (no reply once
   * the connection is closed).
   */
  private parkWait(seq: number, call: CallEntry, p: Parked<unknown>, args: Record<string, unknown>): void {
    const settle = (r: unknown): void => {
      this.parked.delete(seq);
      if (!this.closed) this.send(seq, call, r);
      if (this.heldBy === seq) this.release();
    };
    this.parked.set(seq, { call, args, cancel: () => p.cancel() && settle(errno(ERESTARTSYS, "interrupted")) });
    p.start(settle);
  }

  /** Which connection may make which call (the schema's role), and no guest call after the thread ended. */
  private permit(call: CallEntry): Errno | undefined {
    if (this.role === "new" && call.name !== "hello") return errno(E.EPROTO, `${call.name} before hello: say hello first`);
    switch (call.role) {
      case "any":
        return undefined;
      case "unbound":
        if (this.role === "unbound") return undefined;
        return errno(this.role === "control" ? E.EPERM : E.EPROTO, this.role === "control" ? "a control connection cannot act as a guest" : `${call.name}: this connection is already bound to thread ${this.tid}`);
      case "guest":
        if (this.role === "control") return errno(E.EPERM, "a control connection cannot act as a guest");
        if (this.role !== "guest") return errno(E.EPROTO, `${call.name} before register or claim`);
        if (this.ended) return errno(E.ESRCH, `thread ${this.tid} has ended`);
        return undefined;
      case "control":
        if (this.role !== "control") return errno(E.EPERM, `${call.name} needs a control connection`);
        return undefined;
    }
  }

  /** A blocking call written as an Effect (a stream until interrupted: `events --follow`) runs on a fiber of its own. */
  private park(seq: number, call: CallEntry, eff: Effect.Effect<unknown, Errno>, args: Record<string, unknown>): void {
    // The reply is written inside the uninterruptible region, as a Parked wait's is in the
    // step that takes its value (actors/park.ts): an interrupt lands before it or after it.
    const program = Effect.uninterruptible(
      Effect.exit(eff).pipe(
        Effect.map((exit) => {
          const entry = this.parked.get(seq);
          this.parked.delete(seq);
          if (!entry || this.closed) return;
          if (Exit.isSuccess(exit)) return this.send(seq, call, exit.value);
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined;
          if (failure instanceof Errno) return this.send(seq, call, failure);
          if (Exit.isInterrupted(exit)) return this.send(seq, call, errno(ERESTARTSYS, "interrupted"));
          return this.send(seq, call, errno(E.EIO, `internal error in ${call.name}`));
        }),
      ),
    );
    let fiber: Fiber.RuntimeFiber<void, never> | undefined;
    this.parked.set(seq, { call, args, cancel: () => fiber?.unsafeInterruptAsFork(FiberId.none) });
    fiber = Effect.runFork(program);
  }

  private runPosted(seq: number, call: CallEntry, eff: Effect.Effect<unknown, Errno>): void {
    Effect.runFork(
      Effect.uninterruptible(
        Effect.exit(eff).pipe(
          Effect.map((exit) => {
            if (Exit.isSuccess(exit)) return this.dropPosted(seq, call, exit.value);
            const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined;
            this.dropPosted(seq, call, failure instanceof Errno ? failure : errno(E.EIO, `internal error in ${call.name}`));
          }),
        ),
      ),
    );
  }

  private interrupt(seq: number): void {
    const p = this.parked.get(seq);
    if (this.core.trace) this.core.log(traceInterrupt(this.who, seq, p ? "parked: interrupting" : "not parked: the reply is already sent or on its way"));
    // An interrupt for a call that already completed is not an error: its real reply stands.
    if (p) p.cancel();
  }

  /** Writes the one reply to a request. */
  send(seq: number, call: CallEntry | undefined, r: unknown): void {
    if (this.closed) return;
    let msg: unknown[];
    if (r instanceof Errno) {
      msg = r.detail === undefined ? [REPLY, seq, -r.code] : [REPLY, seq, -r.code, r.detail];
    } else if (typeof r === "number" || typeof r === "bigint") {
      msg = [REPLY, seq, r];
    } else {
      const { result, out } = r as { result: number | bigint; out: Record<string, unknown> };
      msg = [REPLY, seq, result];
      for (const n of call!.outNames) msg.push(out[n]);
    }
    if (this.core.trace) this.core.log(traceReply(this.who, seq, call, msg[2] as number, msg.slice(3)));
    if (this.role === "guest" && call) this.core.events.reply(this.pid, this.tid, call.name, Number(msg[2]), seq);
    this.write(frame(msg));
    if (this.closeAfter) {
      // Say on the daemon's side too why this client is turned away (a version mismatch).
      if (r instanceof Errno) this.core.log(`${this.who} closing after ${call?.name ?? "?"}: ${r.message}`);
      this.close();
    }
  }

  /**
   * A post's outcome (spec/protocol.md §4.5): no frame goes back. It is traced and kept in the
   * event log as a reply would be, and a failure goes to the daemon's log, since the guest will
   * never see it: but not ESRCH for a thread that has ended (a process's last report racing
   * its death, as Linux's exit makes the calls of a dying task moot).
   */
  private dropPosted(seq: number, call: CallEntry | undefined, r: unknown): void {
    const full = typeof r === "object" && r !== null && !(r instanceof Errno) ? (r as { result: number | bigint; out: Record<string, unknown> }) : undefined;
    const result = r instanceof Errno ? -r.code : full ? full.result : (r as number | bigint);
    if (this.core.trace) {
      const out = r instanceof Errno ? (r.detail === undefined ? [] : [r.detail]) : full ? call!.outNames.map((n) => full.out[n]) : [];
      this.core.log(`${traceReply(this.who, seq, call, result, out)} (posted: no reply)`);
    }
    if (this.role === "guest" && call) this.core.events.reply(this.pid, this.tid, call.name, Number(result), seq);
    if (r instanceof Errno && !(r.code === E.ESRCH && this.ended)) this.core.log(`${this.who} posted #${seq} ${call ? `${call.name} ` : ""}failed (no reply is sent for a post): ${r.message}`);
    if (this.closeAfter) this.close();
  }

  private write(f: Buffer): void {
    // The state page before the frame that may tell of its change (spec/protocol.md §10.1).
    this.core.flushWaitCounts();
    if (this.outgoing) {
      this.outgoing.push(f);
      this.outgoingBytes += f.length;
    } else this.sock.write(f);
  }

  /** Writes what the chunk being handled has produced so far, in order, in one write. */
  private flush(): void {
    const o = this.outgoing;
    if (!o || o.length === 0) return;
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.sock.write(o.length === 1 ? o[0]! : Buffer.concat(o));
  }

  /** The calls parked on this connection, for inspection. */
  parkedCalls(): { seq: number; call: string; args: Record<string, unknown> }[] {
    return [...this.parked].map(([seq, p]) => ({ seq, call: p.call.name, args: argsView(p.args) }));
  }

  notify(kind: number, fields: unknown[]): boolean {
    if (this.closed || this.sock.writableLength + this.outgoingBytes > this.core.limits.maxEventBacklog) return false;
    this.event(kind, ...fields);
    return true;
  }

  /** Sends an event the daemon starts. */
  event(kind: number, ...fields: unknown[]): void {
    if (!this.closed) this.write(frame([EVENT, kind, ...fields]));
  }

  /** Sends an event as protocol/events.ts lays it out (eventMessage: its number, then its fields in wire order). */
  emit([kind, ...fields]: [number, ...unknown[]]): void {
    this.event(kind, ...fields);
  }

  /** A protocol error: say why, then close this connection only. */
  fatal(message: string): void {
    if (this.closed) return;
    this.core.log(`${this.who} protocol error, closing: ${message}`);
    this.emit(eventMessage("FATAL", { message }));
    this.close();
  }

  /**
   * Ends the connection: the thread's death (or the control connection's end) now, the
   * socket's close after a lingering close. The daemon half-closes after its last message
   * and reads and drops what the client still sends, until the client closes its end or
   * LINGER_MS pass. Closing at once would make the client's next write fail with EPIPE
   * (and the daemon's unread input reset the connection: unix_release_sock sets the peer's
   * ECONNRESET), and a Node.js client destroys its socket on that error before reading the
   * FATAL event already waiting in it: the reason would be lost (found by the fuzzer).
   * A lingering socket still counts against the connection limit (core.accept).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.core.linger(this.sock);
    this.onClose();
  }

  private closeHandled = false;
  private onClose(): void {
    this.closed = true;
    if (this.closeHandled) return;
    this.closeHandled = true;
    this.core.holdBuffered(-this.reader.buffered);
    this.handshake?.cancel();
    if (this.frameTimer) clearTimeout(this.frameTimer);
    for (const [, p] of this.parked) p.cancel();
    this.parked.clear();
    this.core.connectionClosed(this);
  }

  // Caller
  setRole(role: "unbound" | "control"): void {
    this.role = role;
    this.handshake?.cancel();
    this.handshake = undefined;
  }
  bind(pid: number, tid: number, hostpid: number): void {
    this.role = "guest";
    this.pid = pid;
    this.tid = tid;
    this.hostpid = hostpid;
    this.core.bound(this);
  }
  rebind(tid: number): void {
    this.core.rebound(this, tid);
    this.tid = tid;
  }
  detach(): void {
    this.detached = true;
    this.ended = true;
    this.core.detached(this);
  }
  closeAfterReply(): void {
    this.closeAfter = true;
  }
  provesHost(hostpid: number, fd?: number, secret?: string): boolean {
    if (fd !== undefined) return provesHostAt(hostpid, fd, secret === undefined ? [this.nonce] : [this.nonce, secret]);
    return provesHost(hostpid, this.nonce);
  }

  /** The thread ended: interrupt what it has parked; its in-flight replies still go out. */
  threadEnded(): void {
    this.ended = true;
    for (const [, p] of this.parked) p.cancel();
  }
}
