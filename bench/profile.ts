/**
 * Where the daemon's time goes for the no-op call: the daemon runs under `node --cpu-prof`
 * while the C load generator makes getppid calls; each sample is put in the bucket of the
 * nearest frame (from the leaf up) that belongs to one stage of a call.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROTOCOL_VERSION } from "../src/protocol/index.js";
import { holdInit } from "./lib/init.js";
import { RESULTS, loadgen, startDaemon, startEcho } from "./lib/procs.js";
import type { Result, Row } from "./lib/report.js";

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

const BUCKETS = [
  "decode (msgpack → message)",
  "dispatch: parse + validate",
  "dispatch: connection, handler",
  "actors (xstate)",
  "encode (message → msgpack, frame)",
  "framing (read side)",
  "socket write, cork (node)",
  "socket read, event loop (node)",
  "native (libuv, syscalls)",
  "garbage collector",
  "other",
] as const;
type Bucket = (typeof BUCKETS)[number];

function classify(frames: CpuNode[]): Bucket | "idle" {
  const leaf = frames[0]!.callFrame;
  if (leaf.functionName === "(idle)") return "idle";
  if (leaf.functionName === "(garbage collector)") return "garbage collector";
  if (leaf.functionName === "(program)") return "native (libuv, syscalls)";
  const leafInternal = leaf.url === "" || leaf.url.startsWith("node:");
  for (const f of frames) {
    const { url, functionName: fn } = f.callFrame;
    if (url.includes("/dist/src/protocol/codec.js")) return fn === "decode" || fn === "back" ? "decode (msgpack → message)" : "encode (message → msgpack, frame)";
    if (url.includes("/dist/src/protocol/frame.js")) return fn === "frame" ? "encode (message → msgpack, frame)" : "framing (read side)";
    if (url.includes("/node_modules/xstate/")) return "actors (xstate)";
    if (url.includes("/dist/src/protocol/messages.js") || url.includes("/dist/src/protocol/validate.js")) return "dispatch: parse + validate";
    if (url.includes("/dist/src/syscalls/") || url.includes("/dist/src/actors/")) return "dispatch: connection, handler";
    if (url.includes("/dist/src/server/connection.js")) return leafInternal ? "socket write, cork (node)" : "dispatch: connection, handler";
    if (url.includes("/dist/src/")) return "other";
  }
  return leafInternal ? "socket read, event loop (node)" : "other";
}

/** Buckets the samples taken between `from` and `to` (µs of the monotonic clock both processes share). */
export function analyse(prof: CpuProfile, from = -Infinity, to = Infinity): { busyUs: number; idleUs: number; buckets: Record<string, number> } {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const buckets: Record<string, number> = Object.fromEntries(BUCKETS.map((b) => [b, 0]));
  let idle = 0;
  let busy = 0;
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) continue;
    const frames: CpuNode[] = [];
    for (let id: number | undefined = prof.samples[i]; id !== undefined; id = parent.get(id)) frames.push(byId.get(id)!);
    const b = classify(frames);
    if (b === "idle") idle += dt;
    else {
      busy += dt;
      buckets[b]! += dt;
    }
  }
  return { busyUs: busy, idleUs: idle, buckets };
}

/** Runs the rtt load against a server started under --cpu-prof; returns the analysis of the measured run. */
async function profiled(kind: "blinkd" | "echo", n: number, dir: string): Promise<{ a: ReturnType<typeof analyse>; file: string; calls: number; mean_ns: number }> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const nodeArgs = ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "100"];
  const srv = kind === "blinkd" ? await startDaemon({ nodeArgs }) : await startEcho({ nodeArgs });
  const init = kind === "blinkd" ? await holdInit(srv.socket) : undefined;
  let r: Record<string, number>;
  let from = 0;
  let to = 0;
  try {
    await loadgen(["rtt", srv.socket, PROTOCOL_VERSION, kind, 2000]);
    from = Number(process.hrtime.bigint() / 1000n);
    r = await loadgen(["rtt", srv.socket, PROTOCOL_VERSION, kind, n]);
    to = Number(process.hrtime.bigint() / 1000n);
  } finally {
    init?.close();
    await srv.stop();
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`bench: the ${kind} server wrote no .cpuprofile`);
  // Only the samples of the measured run (V8's profile clock and hrtime are both CLOCK_MONOTONIC).
  const a = analyse(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile, from, to);
  return { a, file: path.join(dir, file), calls: n + n / 10 + 100, mean_ns: r.mean_ns ?? 0 };
}

export async function profile(quick: boolean): Promise<Result> {
  const n = quick ? 5000 : 50000;
  const echo = await profiled("echo", n, path.join(RESULTS, "profile-echo"));
  const ours = await profiled("blinkd", n, path.join(RESULTS, "profile"));
  const { a, calls } = ours;
  const rows: Row[] = BUCKETS.filter((b) => a.buckets[b]! > 0 || echo.a.buckets[b]! > 0).map((b) => ({
    metric: b,
    baseline: `${(echo.a.buckets[b]! / echo.calls).toFixed(2)} µs`,
    blinkd: `${(a.buckets[b]! / calls).toFixed(2)} µs (${((a.buckets[b]! / a.busyUs) * 100).toFixed(1)} %)`,
    ratio: undefined,
    goal: "",
    met: undefined,
  }));
  const eb = echo.a.busyUs / echo.calls;
  const ob = a.busyUs / calls;
  rows.push({ metric: "busy in all", baseline: `${eb.toFixed(2)} µs`, blinkd: `${ob.toFixed(2)} µs`, ratio: ob / eb, goal: "", met: undefined });
  return {
    name: "profile",
    title: `CPU profile per no-op call (${calls} getppid calls, C client; baseline: the echo server under the same load; µs of server CPU per call, blinkd's share of its busy time)`,
    rows,
    notes: [
      `round trip ${(echo.mean_ns / 1000).toFixed(1)} µs (echo) and ${(ours.mean_ns / 1000).toFixed(1)} µs (blinkd): the rest is the client and the kernel's wake-ups`,
      `profiles: ${path.relative(process.cwd(), ours.file)}, ${path.relative(process.cwd(), echo.file)} (open in Chrome DevTools)`,
    ],
    raw: { blinkd: ours, echo },
  };
}
