/** Calls per second with 1, 8 and 32 clients (each its own process and connection, one call outstanding). */
import { PROTOCOL_VERSION } from "../src/protocol/index.js";
import { holdInit } from "./lib/init.js";
import { loadgen, startDaemon, startEcho } from "./lib/procs.js";
import { perS, type Result, type Row } from "./lib/report.js";

interface Tput {
  clients: number;
  calls: number;
  calls_per_s: number;
}

export async function throughput(quick: boolean): Promise<Result> {
  const ms = quick ? 300 : 2000;
  const rounds = quick ? 1 : 3;
  const echo = await startEcho();
  const d = await startDaemon();
  const init = await holdInit(d.socket);
  const raw: Record<string, { echo: Tput[]; blinkd: Tput[] }> = {};
  const rows: Row[] = [];
  try {
    for (const clients of [1, 8, 32]) {
      const r = (raw[clients] = { echo: [] as Tput[], blinkd: [] as Tput[] });
      for (let i = 0; i < rounds; i++) {
        r.echo.push(await loadgen<Tput>(["tput", echo.socket, PROTOCOL_VERSION, "echo", clients, ms]));
        r.blinkd.push(await loadgen<Tput>(["tput", d.socket, PROTOCOL_VERSION, "blinkd", clients, ms]));
      }
      const med = (xs: Tput[]): number => xs.map((x) => x.calls_per_s).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const b = med(r.echo);
      const o = med(r.blinkd);
      const goal = clients >= 8 ? 0.8 : undefined;
      rows.push({ metric: `${clients} client${clients > 1 ? "s" : ""}`, baseline: perS(b), blinkd: perS(o), ratio: o / b, goal: goal ? `≥ ${goal}×` : "report", met: goal ? o / b >= goal : undefined });
    }
  } finally {
    init.close();
    await d.stop();
    await echo.stop();
  }
  return {
    name: "throughput",
    title: `Calls per second (getppid; C clients, one process and connection each; ${rounds} × ${ms} ms; baseline: echo server)`,
    rows,
    notes: ["ratio = blinkd ÷ baseline (higher is better); median over rounds"],
    raw,
  };
}
