/** Drives a guest process (spec/guests/agent.mjs) from a test: one real process per emulated process. */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./daemon.js";
import { EV } from "../../src/protocol/messages.js";

const AGENT = path.join(ROOT, "spec/guests/agent.mjs");

export interface Reply {
  ok: boolean;
  result?: number;
  big?: bigint;
  out?: Record<string, unknown>;
  code?: string;
  errno?: number;
  detail?: string;
}

const enc = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? { $big: x.toString() } : x && x.type === "Buffer" && Array.isArray(x.data) ? { $bytes: Buffer.from(x.data).toString("base64") } : x,
  );
const dec = (s: string) =>
  JSON.parse(s, (_k, x) =>
    x && typeof x === "object" && typeof x.$big === "string" ? BigInt(x.$big) : x && typeof x === "object" && typeof x.$bytes === "string" ? Buffer.from(x.$bytes, "base64") : x,
  );

export class Agent {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  readonly events: { event: number; fields: unknown[] }[] = [];
  private readonly eventWaiters = new Set<() => void>();
  pid = 0;
  tid = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly proc: ChildProcess,
    readonly socket: string,
  ) {
    this.exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts an agent: a fresh registration, or the claim of `token` (the child half of a
   * fork). `exec: false` claims without execve, as a plain fork that has not exec'd.
   */
  static async start(socket: string, token?: string, opts: { exec?: boolean } = {}): Promise<Agent> {
    const env: NodeJS.ProcessEnv = { ...process.env, BLINKD_SOCKET: socket };
    delete env.BLINKD_TOKEN;
    delete env.BLINKD_AGENT_FORK;
    if (token) env.BLINKD_TOKEN = token;
    if (opts.exec === false) env.BLINKD_AGENT_FORK = "1";
    const proc = spawn(process.execPath, [AGENT], { env, stdio: ["pipe", "pipe", "inherit"] });
    const a = new Agent(proc, socket);
    const lines = createInterface({ input: proc.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      lines.on("line", (l) => {
        const m = dec(l);
        if ("ready" in m) {
          if (!m.ready) return reject(new Error(`agent failed: ${m.error}`));
          a.pid = m.pid;
          a.tid = m.tid;
          return resolve();
        }
        if ("event" in m) {
          a.events.push(m);
          for (const w of [...a.eventWaiters]) w();
          return;
        }
        a.waiting.get(m.id)?.(m);
        a.waiting.delete(m.id);
      });
      proc.once("exit", (c) => reject(new Error(`agent exited (${c}) before it was ready`)));
    });
    await ready;
    return a;
  }

  /** Sends a call and returns its id and a promise of its reply. */
  send(name: string, args: Record<string, unknown> = {}): { id: number; reply: Promise<Reply> } {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.proc.stdin!.write(enc({ id, op: "call", name, args }) + "\n");
    return { id, reply };
  }

  call(name: string, args: Record<string, unknown> = {}): Promise<Reply> {
    return this.send(name, args).reply;
  }

  /** The result of a call that must succeed. */
  async ok(name: string, args: Record<string, unknown> = {}): Promise<Reply & { result: number }> {
    const r = await this.call(name, args);
    if (!r.ok) throw new Error(`${name}(${enc(args)}) failed: ${r.code} ${r.detail ?? ""}`);
    return r as Reply & { result: number };
  }

  abort(target: number): void {
    this.proc.stdin!.write(enc({ op: "abort", target }) + "\n");
  }

  /** Opens `count` host descriptors in this agent's process (grows its host table); the highest fd. */
  async openHostFds(count: number): Promise<number> {
    const id = this.nextId++;
    const r = await new Promise<Reply>((resolve) => {
      this.waiting.set(id, resolve);
      this.proc.stdin!.write(enc({ id, op: "open", count }) + "\n");
    });
    return r.result!;
  }

  /** fork: the reservation here, and a new agent process that claims it. */
  async fork(opts: { exec?: boolean } = {}): Promise<Agent> {
    const r = await this.ok("fork");
    const child = await Agent.start(this.socket, r.out!.token as string, opts);
    return child;
  }

  /** Resolves with the first event (from index `from`) that `pred` accepts, in arrival order. */
  waitEvent(pred: (e: { event: number; fields: unknown[] }) => boolean, from = 0): Promise<{ event: number; fields: unknown[] }> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const e = this.events.slice(from).find(pred);
        if (e) {
          this.eventWaiters.delete(waiter);
          resolve(e);
        }
        return !!e;
      };
      const waiter = (): void => void check();
      if (!check()) this.eventWaiters.add(waiter);
    });
  }

  /** The signal events received so far: [signo, pid, code, uid, status] each. */
  signals(): number[][] {
    return this.events.filter((e) => e.event === EV.SIGNAL).map((e) => e.fields as number[]);
  }

  async exit(status: number): Promise<void> {
    this.proc.stdin!.write(enc({ op: "exit", status }) + "\n");
    await this.exited;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<unknown> {
    this.proc.kill(signal);
    return this.exited;
  }
}

export const agent = (socket: string, token?: string): Promise<Agent> => Agent.start(socket, token);

/** The agents a test file starts: `track` records one as it starts, `killAll` SIGKILLs every one recorded so far. */
export function agentTracker(): { track(p: Promise<Agent>): Promise<Agent>; killAll(): void } {
  const agents: Agent[] = [];
  return {
    async track(p) {
      const a = await p;
      agents.push(a);
      return a;
    },
    killAll() {
      for (const a of agents.splice(0)) a.proc.kill("SIGKILL");
    },
  };
}
