/**
 * A client that speaks the wire protocol byte by byte (spec/protocol.md), for tests that
 * must send what the TypeScript client never would, and that count every reply.
 */
import * as net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { frame, FrameReader } from "../../src/protocol/frame.js";
import { decode } from "../../src/protocol/codec.js";
import { PROTOCOL_VERSION, callByName, type CallName } from "../../src/protocol/index.js";
import { requestMessage } from "../../src/protocol/messages.js";

export interface RawReply {
  seq: number;
  result: number | bigint;
  out: unknown[];
}

export class Raw {
  private nextSeq = 1;
  private readonly reader = new FrameReader(64 << 20);
  /** Every reply received, by seq, in arrival order: a second reply to one request shows here. */
  readonly replies = new Map<number, RawReply[]>();
  readonly events: unknown[][] = [];
  private readonly waiters = new Map<number, (r: RawReply) => void>();
  private eventWaiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (chunk: Buffer) =>
      this.reader.push(chunk, (body) => {
        const m = decode(body) as unknown[];
        if (m[0] === 1) {
          const r: RawReply = { seq: m[1] as number, result: m[2] as number, out: m.slice(3) };
          const list = this.replies.get(r.seq) ?? [];
          list.push(r);
          this.replies.set(r.seq, list);
          const w = this.waiters.get(r.seq);
          this.waiters.delete(r.seq);
          w?.(r);
        } else {
          this.events.push(m);
          for (const w of this.eventWaiters.splice(0)) w();
        }
      }),
    );
    sock.on("error", () => {});
    this.closed = new Promise((resolve) =>
      sock.once("close", () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static open(socket: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socket);
      s.once("connect", () => resolve(new Raw(s)));
      s.once("error", reject);
    });
  }

  /** Writes bytes as they are. */
  write(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  /** Frames and writes one message. */
  send(msg: unknown): void {
    this.sock.write(frame(msg));
  }

  seq(): number {
    return this.nextSeq++;
  }

  /** The next reply to `seq` (or the first one already here). */
  reply(seq: number): Promise<RawReply> {
    const have = this.replies.get(seq);
    if (have?.length) return Promise.resolve(have[0]!);
    return new Promise((resolve, reject) => {
      this.waiters.set(seq, resolve);
      void this.closed.then(() => reject(new Error(`connection closed before the reply to #${seq}`)));
    });
  }

  /** Sends a request built from the schema and returns its seq. */
  request<N extends CallName>(name: N, args: Record<string, unknown> = {}, seq = this.seq()): number {
    this.send(requestMessage(seq, callByName(name), args));
    return seq;
  }

  call<N extends CallName>(name: N, args: Record<string, unknown> = {}): Promise<RawReply> {
    return this.reply(this.request(name, args));
  }

  interrupt(seq: number): void {
    this.send([2, seq]);
  }

  async hello(role = "guest", version = PROTOCOL_VERSION): Promise<RawReply> {
    return this.call("hello", { version, role, client: "spec raw" });
  }

  /** hello that must succeed: a daemon built from older sources (a stale dist/) refuses the version, and says so here. */
  async helloOk(): Promise<void> {
    const r = await this.hello();
    if (Number(r.result) < 0) throw new Error(`hello failed: ${r.result} ${String(r.out[0])}`);
  }

  /** hello + register with a stand-in host pid. */
  async register(hostpid: number): Promise<number> {
    await this.helloOk();
    const r = await this.call("register", { hostpid, exe: "/bin/raw", argv: ["raw"], delivery: 0 });
    if (Number(r.result) < 0) throw new Error(`register failed: ${r.result} ${String(r.out[0])}`);
    return Number(r.result);
  }

  /** hello + claim. */
  async claim(token: string, hostpid: number): Promise<number> {
    await this.helloOk();
    const r = await this.call("claim", { token, hostpid });
    if (Number(r.result) < 0) throw new Error(`claim failed: ${r.result} ${String(r.out[0])}`);
    return Number(r.result);
  }

  async fork(): Promise<{ pid: number; token: string }> {
    const r = await this.call("fork");
    if (Number(r.result) < 0) throw new Error(`fork failed: ${r.result} ${String(r.out[0])}`);
    return { pid: Number(r.result), token: r.out[0] as string };
  }

  /** Resolves once an event has arrived (or the connection closed). */
  async nextEvent(): Promise<unknown[] | undefined> {
    if (this.events.length) return this.events.shift();
    await Promise.race([new Promise<void>((r) => this.eventWaiters.push(r)), this.closed]);
    return this.events.shift();
  }

  close(): void {
    this.sock.end();
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/**
 * A host process that stands for a raw client's guest: the daemon may SIGKILL a guest's
 * host process (init's death), which must never be the test runner itself.
 */
export class StandIn {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor() {
    this.proc = spawn("sleep", ["1000"], { stdio: "ignore" });
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
  }
  static start(): StandIn {
    return new StandIn();
  }
  get pid(): number {
    return this.proc.pid!;
  }
  kill(): void {
    this.proc.kill("SIGKILL");
  }
}
