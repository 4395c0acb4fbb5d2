/**
 * A client that speaks the wire protocol byte by byte (spec/protocol.md), for tests that
 * must send what the TypeScript client never would, and that count every reply.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { frame, FrameReader } from "../../src/protocol/frame.js";
import { decode } from "../../src/protocol/codec.js";
import { PROTOCOL_VERSION, callByName, type CallName } from "../../src/protocol/index.js";
import { POST, requestMessage } from "../../src/protocol/messages.js";

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

  /** Sends a post ([4, seq, nr, ...args]: no reply, spec/protocol.md §4.5) and returns its seq. */
  post<N extends CallName>(name: N, args: Record<string, unknown> = {}, seq = this.seq()): number {
    this.send(requestMessage(seq, callByName(name), args, POST));
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
    this.nonce = String(r.out[2]);
  }

  /** This connection's nonce, from the hello reply (a stand-in proves its host pid with it). */
  nonce = "";

  /** hello + register with a stand-in host pid (proven when a StandIn is given). */
  async register(host: number | Prover): Promise<number> {
    await this.helloOk();
    const hostpid = typeof host === "number" ? host : host.pid;
    if (typeof host !== "number") await host.prove(this.nonce);
    const r = await this.call("register", { hostpid, exe: "/bin/raw", argv: ["raw"], delivery: 0 });
    if (Number(r.result) < 0) throw new Error(`register failed: ${r.result} ${String(r.out[0])}`);
    return Number(r.result);
  }

  /** hello + claim (proven when a Prover, such as a StandIn, is given). */
  async claim(token: string, host: number | Prover): Promise<number> {
    await this.helloOk();
    const hostpid = typeof host === "number" ? host : host.pid;
    if (typeof host !== "number") await host.prove(this.nonce);
    const r = await this.call("claim", { token, hostpid });
    if (Number(r.result) < 0) throw new Error(`claim failed: ${r.result} ${String(r.out[0])}`);
    return Number(r.result);
  }

  async fork(): Promise<{ pid: number; token: string; proof: string }> {
    const r = await this.call("fork");
    if (Number(r.result) < 0) throw new Error(`fork failed: ${r.result} ${String(r.out[0])}`);
    return { pid: Number(r.result), token: r.out[0] as string, proof: r.out[1] as string };
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
/**
 * A real host process standing for a guest's host process: the daemon may signal it (default
 * actions, the namespace's end) in place of the test runner. It proves that it is the guest's
 * host process when asked (spec/protocol.md §7.3): it opens the proof file the test made for
 * a connection's nonce and holds it, as a guest holds its memfd.
 */
/** A host process that can prove, on a connection, that it is the one a register or claim names. */
export interface Prover {
  readonly pid: number;
  prove(nonce: string): Promise<unknown>;
}

export class StandIn {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly acks: ((fd: number) => void)[] = [];
  private constructor() {
    const script = `const fs = require("node:fs"); const held = []; require("node:readline").createInterface({ input: process.stdin }).on("line", (p) => { const fd = fs.openSync(p, "r"); held.push(fd); if (held.length > 64) fs.closeSync(held.shift()); process.stdout.write("ok " + fd + "\\n"); }); setInterval(() => {}, 1e6);`;
    this.proc = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "ignore"] });
    this.proc.stdout!.on("data", (b: Buffer) => {
      for (const l of b.toString().split("\n").slice(0, -1)) this.acks.shift()?.(Number(l.slice(3)));
    });
    this.proc.stdin!.on("error", () => {});
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
  }
  static start(): StandIn {
    return new StandIn();
  }
  get pid(): number {
    return this.proc.pid!;
  }
  /**
   * Holds a descriptor named blinkd-proof-NONCE: register or claim naming this pid on that
   * connection is proven (and claim_fd naming the descriptor, whose number it returns; NONCE
   * may be a reservation's proof for that).
   */
  async prove(nonce: string): Promise<number> {
    const p = path.join(os.tmpdir(), `blinkd-proof-${nonce}`);
    fs.writeFileSync(p, "", { mode: 0o600 });
    try {
      return await new Promise<number>((resolve) => {
        this.acks.push(resolve);
        this.proc.stdin!.write(p + "\n");
      });
    } finally {
      fs.rmSync(p, { force: true });
    }
  }
  kill(): void {
    this.proc.kill("SIGKILL");
  }
}
