/**
 * Runs a scenario script (spec/scenarios/*.txt, the language is described in
 * spec/linux/scenario.c) twice: on real Linux, as PID 1 of `unshare --pid --fork
 * --mount-proc`, and through a real blinkd with one agent process per emulated process.
 * Both return the trace, one line per step, which a test compares.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, serve } from "./daemon.js";
import { agent, type Agent, type Reply } from "./agent.js";

const SRC = path.join(ROOT, "spec/linux/scenario.c");
let binary: string | undefined;

/** Compiles the C interpreter once per test process. */
function compiled(): string {
  if (binary) return binary;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-scn-")), "scenario");
  execFileSync("cc", ["-O1", "-o", out, SRC]);
  return (binary = out);
}

export function scenarioPath(name: string): string {
  return path.join(ROOT, "spec/scenarios", `${name}.txt`);
}

/** The trace on real Linux. */
export function linuxTrace(name: string): string[] {
  const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", compiled(), scenarioPath(name)], { encoding: "utf8", timeout: 20_000 });
  if (r.error) throw r.error;
  return r.stdout.split("\n").filter((l) => l !== "");
}

const WOPT: Record<string, number> = { WNOHANG: 1, WUNTRACED: 2, WCONTINUED: 8 };
const SA_FLAG: Record<string, number> = { nocldstop: 0x1, restart: 0x10000000 };

function st(s: number): string {
  if ((s & 0x7f) === 0) return `exited(${(s >> 8) & 0xff})`;
  if ((s & 0xff) === 0x7f) return `stopped(${(s >> 8) & 0xff})`;
  if (s === 0xffff) return "continued";
  return `killed(${s & 0x7f})`;
}

/** The trace through blinkd: a fresh daemon, init registers as PID 1, every fork is an agent. */
export async function blinkdTrace(name: string): Promise<string[]> {
  const script = fs.readFileSync(scenarioPath(name), "utf8");
  const d = await serve(process.env.SCENARIO_DEBUG ? ["--trace"] : []);
  if (process.env.SCENARIO_DEBUG) setTimeout(() => console.error(d.stderr()), 8000).unref();
  const all: Agent[] = [];
  const trace: string[] = [];
  try {
    const init = await agent(d.socket);
    all.push(init);
    const actors = new Map<string, Agent>([["init", init]]);
    const consumed = new Map<Agent, Set<number>>();
    for (const raw of script.split("\n")) {
      if (!raw.trim() || raw.startsWith("#")) continue;
      const [who, ...rest0] = raw.trim().split(/\s+/);
      const rest = rest0.map((w) => w.replace(/\$(\w+)/g, (_m, nm: string) => String(actors.get(nm)?.pid ?? -9999)));
      if (process.env.SCENARIO_DEBUG) console.error(`> ${raw}`);
      const line = rest.join(" ");
      const a = actors.get(who!);
      if (!a) throw new Error(`no actor ${who}`);
      const [op, ...args] = rest;
      const n = args.map(Number);
      const say = (r: Reply): void => void trace.push(`${who}: ${line} -> ${r.ok ? r.result : `-1 ${r.code}`}`);
      const call = async (callName: string, callArgs: Record<string, unknown>): Promise<void> => say(await a.call(callName, callArgs));
      switch (op) {
        case "fork": {
          const child = await a.fork({ exec: false });
          all.push(child);
          actors.set(args[0]!, child);
          trace.push(`${who}: fork -> ${child.pid}`);
          break;
        }
        case "setpgid":
          await call("setpgid", { pid: n[0], pgid: n[1] });
          break;
        case "getpgid":
          await call("getpgid", { pid: n[0] });
          break;
        case "getpgrp":
          await call("getpgrp", {});
          break;
        case "setsid":
          await call("setsid", {});
          break;
        case "getsid":
          await call("getsid", { pid: n[0] });
          break;
        case "kill":
          await call("kill", { pid: n[0], sig: n[1] });
          break;
        case "tkill":
          await call("tkill", { tid: n[0], sig: n[1] });
          break;
        case "tgkill":
          await call("tgkill", { tgid: n[0], tid: n[1], sig: n[2] });
          break;
        case "setresuid":
          await call("setresuid", { ruid: n[0]! >>> 0, euid: n[1]! >>> 0, suid: n[2]! >>> 0 });
          break;
        case "handle":
          await call("rt_sigaction", { signo: n[0], handler: 2, flags: (args[1] ?? "").split("|").reduce((f, w) => f | (SA_FLAG[w] ?? 0), 0) });
          break;
        case "ignore":
        case "default":
          await call("rt_sigaction", { signo: n[0], handler: op === "ignore" ? 1 : 0, flags: 0 });
          break;
        case "block":
        case "unblock":
          await call("rt_sigprocmask", { how: op === "block" ? 0 : 1, set: 1n << BigInt(n[0]! - 1) });
          break;
        case "sigpending": {
          const r = await a.ok("rt_sigpending", {});
          const set = r.out!.set as bigint;
          trace.push(`${who}: sigpending -> ${set === 0n ? "0" : `0x${set.toString(16)}`}`);
          break;
        }
        case "awaitsig": {
          const used = consumed.get(a) ?? new Set<number>();
          consumed.set(a, used);
          const e = await a.waitEvent((e) => e.event === 1 && (e.fields[0] as number) === n[0] && !used.has(a.events.indexOf(e)));
          used.add(a.events.indexOf(e));
          const [signo, pid, code, uid, status] = e.fields as number[];
          trace.push(`${who}: got ${signo} pid=${pid} code=${code} uid=${uid} status=${status}`);
          break;
        }
        case "wait": {
          const opts = (args[1] ?? "0").split("|").reduce((f, w) => f | (WOPT[w] ?? 0), 0);
          const r = await a.call("wait4", { pid: n[0], options: opts });
          if (!r.ok) trace.push(`${who}: ${line} -> -1 ${r.code}`);
          else if (r.result === 0) trace.push(`${who}: ${line} -> 0`);
          else trace.push(`${who}: ${line} -> ${r.result} ${st(r.out!.wstatus as number)}`);
          break;
        }
        case "exec":
          await a.ok("execve", { exe: "/proc/self/exe", argv: ["scenario"] });
          trace.push(`${who}: exec`);
          break;
        case "exit":
          trace.push(`${who}: exit ${n[0]}`);
          await a.exit(n[0]!);
          break;
        default:
          throw new Error(`unknown op ${op}`);
      }
    }
  } finally {
    for (const a of all) a.proc.kill("SIGKILL");
    await d.stop();
  }
  return trace;
}
