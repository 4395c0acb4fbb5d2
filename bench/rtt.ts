/**
 * No-op call round trip: an uncached getppid, one client, one call outstanding, against the
 * bare echo server with the same framing. The C load generator is the client that the goal
 * judges; the TypeScript client's figures are reported beside it.
 */
import { ClientConnection } from "../src/client/connection.js";
import { PROTOCOL_VERSION } from "../src/protocol/index.js";
import { holdInit } from "./lib/init.js";
import { loadgen, startDaemon, startEcho } from "./lib/procs.js";
import { pct, us, type Result, type Row } from "./lib/report.js";

interface Rtt {
  n: number;
  p50_ns: number;
  p99_ns: number;
  mean_ns: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function tsRtt(c: ClientConnection, n: number): Promise<Rtt> {
  for (let i = 0; i < n / 10 + 100; i++) await c.call("getppid", {});
  const t: number[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    await c.call("getppid", {});
    t[i] = Number(process.hrtime.bigint() - a);
    total += t[i]!;
  }
  t.sort((a, b) => a - b);
  return { n, p50_ns: pct(t, 0.5), p99_ns: pct(t, 0.99), mean_ns: total / n };
}

export async function rtt(quick: boolean): Promise<Result> {
  const n = quick ? 2000 : 20000;
  const rounds = quick ? 1 : 3;
  const echo = await startEcho();
  const d = await startDaemon();
  const init = await holdInit(d.socket);
  const echoTs = await ClientConnection.open(echo.socket);
  const runs: { echo: Rtt[]; blinkd: Rtt[]; tsEcho: Rtt[]; tsBlinkd: Rtt[] } = { echo: [], blinkd: [], tsEcho: [], tsBlinkd: [] };
  try {
    // Alternate baseline and daemon so that drift on a shared machine hits both alike.
    for (let r = 0; r < rounds; r++) {
      runs.echo.push(await loadgen<Rtt>(["rtt", echo.socket, PROTOCOL_VERSION, "echo", n]));
      runs.blinkd.push(await loadgen<Rtt>(["rtt", d.socket, PROTOCOL_VERSION, "blinkd", n]));
      runs.tsEcho.push(await tsRtt(echoTs, n));
      runs.tsBlinkd.push(await tsRtt(init, n));
    }
  } finally {
    echoTs.close();
    await d.stop();
    await echo.stop();
  }
  const m = (xs: Rtt[], k: keyof Rtt): number => median(xs.map((x) => x[k]));
  const row = (metric: string, base: Rtt[], ours: Rtt[], k: keyof Rtt, goal: number | undefined): Row => {
    const b = m(base, k);
    const o = m(ours, k);
    return { metric, baseline: us(b), blinkd: us(o), ratio: o / b, goal: goal ? `≤ ${goal}×` : "report", met: goal ? o / b <= goal : undefined };
  };
  return {
    name: "rtt",
    title: `No-op call round trip (getppid, 1 client; ${rounds} × ${n} calls; baseline: bare Node.js echo server, same framing)`,
    rows: [
      row("C client p50", runs.echo, runs.blinkd, "p50_ns", 1.15),
      row("C client p99", runs.echo, runs.blinkd, "p99_ns", 1.15),
      row("C client mean", runs.echo, runs.blinkd, "mean_ns", undefined),
      row("TS client p50", runs.tsEcho, runs.tsBlinkd, "p50_ns", undefined),
      row("TS client p99", runs.tsEcho, runs.tsBlinkd, "p99_ns", undefined),
    ],
    notes: ["median over rounds; each round runs the echo server then blinkd back to back"],
    raw: runs,
    left: (["p50_ns", "p99_ns"] as const).map((k) => ({
      metric: `C client ${k.slice(0, 3)}`,
      parts: [
        `echo server ${us(m(runs.echo, k))}, blinkd ${us(m(runs.blinkd, k))}: blinkd's work per call +${us(m(runs.blinkd, k) - m(runs.echo, k))}`,
        `each side's own tail, p99 ÷ p50: echo ${(m(runs.echo, "p99_ns") / m(runs.echo, "p50_ns")).toFixed(2)}×, blinkd ${(m(runs.blinkd, "p99_ns") / m(runs.blinkd, "p50_ns")).toFixed(2)}×`,
      ],
      why: "a getppid through blinkd is the echo server's path plus the call's dispatch and its event-log record; where blinkd's own tail (p99 ÷ p50) is much longer than the echo server's in the same run, the miss is the scheduler's (the two run back to back on a shared machine)",
      next: "the profile benchmark's stages (`npm run bench -- profile`) name what the call's dispatch costs; no design step is open for the round trip itself",
    })),
  };
}
