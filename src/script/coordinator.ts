/**
 * Runs a scenario: one agent per process (agent.ts on blinkd, linux-agent.c on Linux and in blink),
 * each connected to this coordinator by its own UNIX socket. The coordinator runs the
 * steps one at a time in file order and prints one trace line per step, so the two sides'
 * traces can be compared line by line. Everything that decides the trace's text lives
 * here and in steps.ts; the agents only make calls and answer with numbers.
 *
 * Ordering without sleeps: a step is sent only when the previous one has returned, and
 * has settled: a process that exits or is killed is a zombie (or gone) before the next
 * step; a background step ("&") lets the next step go once its call is inside the kernel:
 * on Linux once /proc/PID/syscall shows the process blocked in that call, on blinkd once
 * the daemon has taken the request (the agent's later call on the same connection has
 * been answered), in blink once the daemon holds the call parked. Its line is printed in
 * its place when it returns.
 *
 * Line protocol: coordinator → agent "SEQ OP ARG… [&]"; agent → coordinator
 * "hello NAME PID HOSTPID", "r SEQ RESULT ERRNO EXTRA…", "b SEQ" (blinkd's barrier).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { Scenario, Step } from "./format.js";
import type { Env, Facts, Reply, Settle, SigState } from "./steps/index.js";
import { showStatus } from "./names.js";

export interface AgentInfo {
  readonly name: string;
  readonly pid: number;
  readonly hostpid: number;
}

/** Where a scenario runs: blinkd (sides/blinkd.ts), blink (sides/blink.ts) or real Linux (sides/linux.ts). */
export interface Side {
  readonly label: string;
  /** Starts init's agent, which connects to `coord`. */
  start(coord: string): Promise<void>;
  /** Init's wait status once the namespace is over. */
  readonly ended: Promise<number>;
  /** True: the agent reports "b SEQ" for a background call; false: poll blockedIn (syscall: x86-64 number). */
  readonly barrier: boolean;
  blockedIn(a: AgentInfo, syscall: number): boolean;
  /** What the process is now, as the side's kernel sees it. */
  state(a: AgentInfo): "dead" | "stopped" | "running";
  /** Its process group as the side's kernel numbers it (compared, never printed). */
  pgid(a: AgentInfo): number | undefined;
  /** Its session, likewise. */
  sid(a: AgentInfo): number | undefined;
  /** Ends the namespace from outside (SIGKILL to init). */
  killInit(a: AgentInfo): void;
  close(): Promise<void>;
}

export interface Trace {
  readonly lines: readonly string[];
  readonly status: number;
  readonly text: string;
}

export interface RunOptions {
  /** Longest wait for one step, in ms. */
  readonly stepTimeoutMs?: number;
  /** Called with each trace line as soon as it and every line before it are known. */
  readonly onLine?: (line: string) => void;
}

interface Pending {
  resolve(r: Reply | undefined): void;
  barrier?: () => void;
}

class AgentConn implements AgentInfo {
  readonly pending = new Map<number, Pending>();
  closed = false;
  busy: Promise<unknown> | undefined;
  constructor(
    readonly name: string,
    readonly pid: number,
    readonly hostpid: number,
    readonly sock: net.Socket,
  ) {}
  send(words: (string | number)[]): void {
    this.sock.write(words.join(" ") + "\n");
  }
}

export class ScenarioFailure extends Error {}

function poll(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new ScenarioFailure(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 2);
    };
    tick();
  });
}

function within<T>(p: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new ScenarioFailure(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs))),
  ]).finally(() => clearTimeout(t));
}

/** One step's longest wait when the caller gives none (RunOptions.stepTimeoutMs). */
export const STEP_TIMEOUT_MS = 30_000;

export async function runScenario(sc: Scenario, side: Side, opts: RunOptions = {}): Promise<Trace> {
  const timeout = opts.stepTimeoutMs ?? STEP_TIMEOUT_MS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-coord-"));
  const coordPath = path.join(dir, "coord.sock");
  const agents = new Map<string, AgentConn>();
  const byPid = new Map<number, string>();
  const hellos = new Map<string, (a: AgentConn) => void>();
  const sigStates = new Map<string, SigState>();
  const sigState = (name: string): SigState => {
    let st = sigStates.get(name);
    // The agents start with the runner's ids (both sides run them as the runner's user).
    const uid = process.getuid?.() ?? 0;
    if (!st) sigStates.set(name, (st = { disp: new Map(), flags: new Map(), blocked: new Set(), creds: { ruid: uid, euid: uid, suid: uid } }));
    return st;
  };
  let seq = 0;

  const server = net.createServer((sock) => {
    let agent: AgentConn | undefined;
    const rl = createInterface({ input: sock });
    rl.on("line", (line) => {
      const w = line.split(" ");
      if (w[0] === "hello" && !agent) {
        agent = new AgentConn(w[1]!, Number(w[2]), Number(w[3]), sock);
        agents.set(agent.name, agent);
        byPid.set(agent.pid, agent.name);
        hellos.get(agent.name)?.(agent);
        return;
      }
      if (!agent) return;
      const p = agent.pending.get(Number(w[1]));
      if (!p) return;
      if (w[0] === "b") return p.barrier?.();
      if (w[0] === "r") {
        agent.pending.delete(Number(w[1]));
        p.resolve({ result: Number(w[2]), errno: Number(w[3]), extra: w.slice(4).map(Number), words: w.slice(4) });
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      if (!agent) return;
      agent.closed = true;
      for (const p of agent.pending.values()) p.resolve(undefined);
      agent.pending.clear();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(coordPath, resolve);
  });

  const helloOf = (name: string): Promise<AgentConn> =>
    new Promise((resolve) => {
      const a = agents.get(name);
      if (a) return resolve(a);
      hellos.set(name, resolve);
    });

  const env: Env = {
    pidOf(name) {
      const a = agents.get(name);
      if (!a) throw new ScenarioFailure(`no process called ${name} has been made yet`);
      return a.pid;
    },
  };
  const facts: Facts = {
    disposition: (name, sig) => sigStates.get(name)?.disp.get(sig) ?? "dfl",
    blocked: (name, sig) => sigStates.get(name)?.blocked.has(sig) ?? false,
    creds: (name) => sigState(name).creds,
    sid: (name) => {
      const a = agents.get(name);
      return a ? side.sid(a) : undefined;
    },
    nameOf: (pid) => byPid.get(pid),
    live: () => [...agents.values()].filter((a) => side.state(a) !== "dead").map((a) => a.name),
    state: (name) => {
      const a = agents.get(name);
      return a ? side.state(a) : "dead";
    },
    pgid: (name) => {
      const a = agents.get(name);
      return a ? side.pgid(a) : undefined;
    },
  };

  // Trace lines in step order; a background step's line is filled in when it returns.
  const slots: (string | undefined)[] = [];
  let printed = 0;
  const flush = (): void => {
    for (; printed < slots.length && slots[printed] !== undefined; printed++) opts.onLine?.(slots[printed]!);
  };
  const fill = (i: number, line: string): void => {
    slots[i] = line;
    flush();
  };

  const call = (a: AgentConn, words: (string | number)[], background: boolean): { reply: Promise<Reply | undefined>; barrier: Promise<void> } => {
    const s = ++seq;
    let barrier!: () => void;
    const b = new Promise<void>((r) => (barrier = r));
    const reply = new Promise<Reply | undefined>((resolve) => {
      if (a.closed) return resolve(undefined);
      a.pending.set(s, { resolve, barrier });
      a.send(background ? [s, ...words, "&"] : [s, ...words]);
    });
    void reply.then(() => barrier());
    return { reply, barrier: b };
  };

  const settle = async (st: Settle, self: AgentConn): Promise<void> => {
    const who = st.who === "self" ? self : agents.get(st.who);
    if (!who) return;
    const reached = st.kind === "running" ? () => side.state(who) !== "stopped" : () => side.state(who) === st.kind;
    await poll(reached, `${who.name} to be ${st.kind === "running" ? "no longer stopped" : st.kind}`, timeout);
  };

  let failure: Error | undefined;
  try {
    await side.start(coordPath);
    await within(helloOf("init"), "init to start", timeout);
    for (let i = 0; i < sc.steps.length; i++) {
      const step: Step = sc.steps[i]!;
      const where = `step ${i + 1} (line ${step.line}: ${step.text})`;
      const a = agents.get(step.actor);
      if (!a) throw new ScenarioFailure(`${where}: ${step.actor} does not exist`);
      // A process finishes its background call before it takes its next step.
      if (a.busy) await within(a.busy, `${where}: ${a.name}'s earlier background call to return`, timeout);
      if (a.closed || side.state(a) === "dead") throw new ScenarioFailure(`${where}: ${a.name} has ended`);
      const shown = `${a.name}: ${step.parsed.show(env)}`;
      slots.push(undefined);
      const { reply, barrier } = call(a, step.parsed.command(env), step.background);
      const finish = reply.then((r) => fill(i, r ? `${shown} = ${step.parsed.format(r)}`.replace(/ = $/, "") : `${shown} = <no return: ${a.name} ended>`));
      if (step.background) {
        const mine: Promise<void> = finish.then(() => {
          if (a.busy === mine) a.busy = undefined;
        });
        a.busy = mine;
        const inKernel = side.barrier ? barrier : poll(() => !a.pending.size || side.blockedIn(a, step.parsed.syscall!), `${a.name} to block in ${step.op}`, timeout);
        await within(inKernel, `${where} to block`, timeout);
        continue;
      }
      if (step.parsed.creates) {
        const child = step.parsed.creates;
        const fr = await within(reply, `${where} to return`, timeout);
        if (fr && fr.result > 0) await within(helloOf(child), `${where}: the child ${child} to start`, timeout);
        else throw new ScenarioFailure(`${where}: fork failed (${fr ? fr.errno : "no reply"})`);
      }
      const r = await within(reply, `${where} to return`, timeout);
      await finish;
      if (!r) continue;
      step.parsed.update?.(sigState(a.name), r);
      if (step.parsed.creates) {
        // fork(2) copies the dispositions, the mask and the credentials.
        const st = sigState(a.name);
        sigStates.set(step.parsed.creates, { disp: new Map(st.disp), flags: new Map(st.flags), blocked: new Set(st.blocked), creds: { ...st.creds } });
      }
      const st = step.parsed.settle?.(env, facts, a.name, r);
      for (const one of st === undefined ? [] : "kind" in st ? [st as Settle] : (st as readonly Settle[])) await settle(one, a);
    }
    // The end: init exits (or, busy in a call, is killed from outside), which ends the namespace.
    // A scenario should leave init free; if it is still blocked in a call, it is killed
    // from outside, and the status is not printed (unshare reports a killed child as 1).
    const init = agents.get("init")!;
    let killed = false;
    if (!init.closed && side.state(init) !== "dead") {
      if (init.busy || init.pending.size) {
        killed = true;
        side.killInit(init);
      } else call(init, ["exit", 0], false);
    }
    const status = await within(side.ended, "the namespace to end", timeout);
    await within(Promise.all([...agents.values()].map((x) => x.busy)), "background calls to end", timeout);
    const lines = slots.map((l) => l ?? "<missing>");
    lines.push(killed ? "end: init was still blocked, killed from outside" : `end: init ${showStatus(status)}`);
    opts.onLine?.(lines[lines.length - 1]!);
    return { lines, status, text: lines.join("\n") + "\n" };
  } catch (e) {
    failure = e as Error;
    for (const a of agents.values()) if (a.name === "init" && !a.closed) side.killInit(a);
    throw e;
  } finally {
    server.close();
    for (const a of agents.values()) a.sock.destroy();
    await side.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
    void failure;
  }
}
