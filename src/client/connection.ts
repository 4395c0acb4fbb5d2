/**
 * The client side of one connection: framing, sequence numbers, one pending entry per
 * request until its one reply, interrupts from an AbortSignal, and daemon events.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { FrameReader, frame } from "../protocol/frame.js";
import { decode } from "../protocol/codec.js";
import { EVENT, INTERRUPT, POST, REPLY, parseReply, requestMessage, type Reply } from "../protocol/messages.js";
import { EV } from "../protocol/events.js";
import { PROTOCOL_VERSION, callByName, table, type ArgsOf, type CallEntry, type CallName, type OutOf } from "../protocol/index.js";
import { E, ERESTARTSYS } from "../protocol/errno.js";
import { DaemonGoneError, SyscallError } from "./errors.js";


export interface CallResult<N extends CallName> {
  readonly result: number;
  readonly big: bigint | undefined;
  readonly out: OutOf<N>;
}

interface Pending {
  readonly call: CallEntry;
  resolve(r: Reply): void;
  reject(e: Error): void;
}

/** A reply as the caller sees it: the result, or SyscallError for a negative one (ERESTARTSYS, an interrupted call, as EINTR). */
export function settle<N extends CallName>(name: N, r: Reply): CallResult<N> {
  const res = r.result;
  if (res < 0) {
    const code = -Number(res);
    throw new SyscallError(name, code === ERESTARTSYS ? E.EINTR : code, r.detail);
  }
  return { result: Number(res), big: typeof res === "bigint" ? res : undefined, out: r.out as OutOf<N> };
}

export type EventHandler = (kind: number, fields: unknown[]) => void;

export class ClientConnection {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader(64 << 20);
  private goneReason: string | undefined;
  onEvent: EventHandler = () => {};
  onGone: (reason: string) => void = () => {};

  private constructor(
    readonly socketPath: string,
    private readonly sock: net.Socket,
  ) {
    sock.on("data", (chunk: Buffer) => {
      try {
        this.reader.push(chunk, (body) => this.dispatch(decode(body)));
      } catch (e) {
        this.gone(`bad data from the daemon: ${(e as Error).message}`);
        sock.destroy();
      }
    });
    sock.on("close", () => this.gone(this.goneReason ?? `the daemon at ${socketPath} closed the connection`));
    sock.on("error", (e) => (this.goneReason ??= `connection to ${socketPath}: ${e.message}`));
  }

  static open(socketPath: string): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      sock.once("connect", () => {
        sock.removeAllListeners("error");
        resolve(new ClientConnection(socketPath, sock));
      });
      sock.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new DaemonGoneError(
            e.code === "ENOENT" || e.code === "ECONNREFUSED"
              ? `no blinkd daemon is running at ${socketPath} (${e.code})`
              : e.code === "EACCES"
                ? `permission denied: uid ${process.getuid?.() ?? "?"} may not connect to ${socketPath}`
                : e.code === "EAGAIN"
                  ? `the daemon at ${socketPath} does not accept connections (stopped, or overloaded: its backlog is full)`
                  : `cannot connect to ${socketPath}: ${e.message}`,
          ),
        ),
      );
    });
  }

  /** The handshake: protocol version and role. A guest also makes the proof of its host pid (prove). */
  async hello(role: "guest" | "control", client: string): Promise<OutOf<"hello">> {
    const r = await this.call("hello", { version: PROTOCOL_VERSION, role, client });
    if (role === "guest") this.prove(r.out.nonce);
    return r.out;
  }

  private proof: number | undefined;

  /**
   * Holds a descriptor named blinkd-proof-NONCE (an unlinked temporary file: Node.js has no
   * memfd_create) until dropProof: the daemon finds it in /proc/PID/fd of the host pid that
   * register or claim names, and takes that pid only then (spec/protocol.md §7.3).
   */
  prove(nonce: string): void {
    this.dropProof();
    const p = path.join(os.tmpdir(), `blinkd-proof-${nonce}`);
    try {
      this.proof = fs.openSync(p, "wx", 0o600);
      fs.rmSync(p, { force: true });
    } catch {
      this.proof = undefined; // no temporary directory: the guest goes unproven (no host process)
    }
  }

  /** The proof's descriptor (claim_fd names it: the daemon reads that one link), if one is held. */
  get proofFd(): number | undefined {
    return this.proof;
  }

  /** register or claim was answered: the proof has served. */
  dropProof(): void {
    if (this.proof !== undefined) fs.closeSync(this.proof);
    this.proof = undefined;
  }

  get isGone(): boolean {
    return this.goneReason !== undefined;
  }

  /** Sends one request; resolves with its reply, rejects with SyscallError for a negative result. */
  call<N extends CallName>(name: N, args: ArgsOf<N>, opts: { signal?: AbortSignal } = {}): Promise<CallResult<N>> {
    if (this.goneReason !== undefined) return Promise.reject(new DaemonGoneError(this.goneReason));
    return new Promise<CallResult<N>>((resolve, reject) => {
      const signal = opts.signal;
      // The interrupt has no reply of its own: the call still gets exactly one reply.
      const onAbort = (): void => this.interrupt(seq);
      const seq = this.put(name, args, {
        resolve: (r) => {
          signal?.removeEventListener("abort", onAbort);
          try {
            resolve(settle(name, r));
          } catch (e) {
            reject(e as Error);
          }
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /** Puts a request on the wire; its reply, whatever its result, or a rejection when the connection ends first. */
  request<N extends CallName>(name: N, args: ArgsOf<N>): { seq: number; reply: Promise<Reply> } {
    if (this.goneReason !== undefined) return { seq: 0, reply: Promise.reject(new DaemonGoneError(this.goneReason)) };
    let seq = 0;
    const reply = new Promise<Reply>((resolve, reject) => (seq = this.put(name, args, { resolve, reject })));
    return { seq, reply };
  }

  /** Sends the request under the next seq, with what to do with its one reply. */
  private put<N extends CallName>(name: N, args: ArgsOf<N>, on: Pick<Pending, "resolve" | "reject">): number {
    const call = callByName(name);
    const seq = (this.seq = (this.seq + 1) >>> 0);
    this.pending.set(seq, { call, resolve: on.resolve, reject: on.reject });
    this.sock.write(frame(requestMessage(seq, call, args as Record<string, unknown>)));
    return seq;
  }

  /**
   * Posts a request nobody waits for (spec/protocol.md §4.5): `[4, seq, nr, ...args]`, which the
   * daemon takes in order with this connection's requests and answers with nothing (a failure
   * goes to its log). Resolves once the frame is handed to the socket, so a process may end
   * right after; a call that may block cannot be posted.
   */
  post<N extends CallName>(name: N, args: ArgsOf<N>): Promise<void> {
    if (this.goneReason !== undefined) return Promise.reject(new DaemonGoneError(this.goneReason));
    const call = callByName(name);
    if (call.blocks) return Promise.reject(new Error(`${name} may block: it cannot be posted`));
    const seq = (this.seq = (this.seq + 1) >>> 0);
    return new Promise((resolve, reject) =>
      this.sock.write(frame(requestMessage(seq, call, args as Record<string, unknown>, POST)), (e) => (e ? reject(new DaemonGoneError(`posting ${name}: ${e.message}`)) : resolve())),
    );
  }

  /** Asks the daemon to interrupt request seq if it is parked (§6); nothing when it was answered. */
  interrupt(seq: number): void {
    if (this.pending.has(seq)) this.sock.write(frame([INTERRUPT, seq]));
  }

  private dispatch(msg: unknown): void {
    // A message the client cannot place is a broken daemon: throwing here closes the
    // connection (spec/protocol.md §9), so that a second reply to one request never passes unseen.
    if (!Array.isArray(msg)) throw new Error("a message that is not an array");
    if (msg[0] === REPLY) {
      const p = this.pending.get(msg[1] as number);
      if (!p) throw new Error(`a reply to #${String(msg[1])}, which has no request outstanding`);
      this.pending.delete(msg[1] as number);
      const r = parseReply(msg, p.call);
      if ("message" in r) p.reject(new Error(`blinkd: bad reply to ${p.call.name}: ${r.message}`));
      else p.resolve(r);
    } else if (msg[0] === EVENT) {
      if (msg[1] === EV.FATAL) this.goneReason = `the daemon closed the connection: ${String(msg[2])}`;
      this.onEvent(msg[1] as number, msg.slice(2));
    }
  }

  private gone(reason: string): void {
    this.dropProof();
    this.goneReason ??= reason;
    const err = new DaemonGoneError(this.goneReason);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onGone(this.goneReason);
  }

  close(): void {
    this.dropProof();
    this.sock.end();
  }

  /** Drops the connection at once (a daemon that does not answer). */
  destroy(): void {
    this.goneReason ??= `the connection to ${this.socketPath} was dropped`;
    this.sock.destroy();
  }

  /** Lets the process exit while the connection is open (a guest's own lifetime decides). */
  unref(): void {
    this.sock.unref();
  }

  ref(): void {
    this.sock.ref();
  }
}

export { table };
