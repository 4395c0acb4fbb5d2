/**
 * What a wait/reap costs with 100 versus 10,000 unrelated processes in the namespace: the
 * protocol fork → claim → exit → wait cycle (bench/forkcycle.ts) timed with that many
 * zombies of another parent standing by. No operation may scan the namespace, so the cost
 * must not grow with it. kill's round trip is timed the same way.
 *
 * Two daemons run side by side, one holding 100 processes and one 10,000, and the rounds
 * alternate between them (small, large, large, small, …): on a shared machine the load
 * drifts by 2× within a minute, so each round's ratio compares two runs made back to back,
 * and the figure is the median of those ratios.
 */
import { PROTOCOL_VERSION, table } from "../src/protocol/index.js";
import { holdInit } from "./lib/init.js";
import { holdLoadgen, loadgen, startDaemon, type Daemon } from "./lib/procs.js";
import { us, type Result, type Row } from "./lib/report.js";

interface Cycles {
  cycles: number;
  cycles_per_s: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function scale(quick: boolean): Promise<Result> {
  const small = 100;
  const large = quick ? 2000 : 10000;
  const n = quick ? 300 : 2000;
  const rounds = quick ? 1 : 6;
  const hasKill = table.byName.has("kill");
  // kill(own pid, 0): lookup and permission (kill_pid_info, check_kill_permission);
  // kill(own pid, SIGCONT): the whole send path for a running process that ignores it.
  const kills = hasKill ? [0, 18] : [];
  const sides = { small: { count: small }, large: { count: large } } as const;
  type Side = keyof typeof sides;
  const daemons: Partial<Record<Side, Daemon>> = {};
  const inits: { close(): void }[] = [];
  const holders: { release(): Promise<void> }[] = [];
  const cost: Record<Side, number[]> = { small: [], large: [] };
  const killCost: Record<string, Record<Side, number[]>> = Object.fromEntries(kills.map((s) => [s, { small: [], large: [] }]));
  try {
    for (const side of ["small", "large"] as const) {
      const d = await startDaemon();
      daemons[side] = d;
      inits.push(await holdInit(d.socket));
      await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, n, 0]); // warm up
      holders.push(await holdLoadgen(["zombies", d.socket, PROTOCOL_VERSION, sides[side].count]));
      await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, Math.ceil(n / 3), 0]); // settle after the zombies' creation
    }
    const measure = async (side: Side): Promise<void> => {
      const d = daemons[side]!;
      cost[side].push(1e9 / (await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, n, 0])).cycles_per_s);
      for (const sig of kills) killCost[sig]![side].push((await loadgen<{ mean_ns: number }>(["kill", d.socket, PROTOCOL_VERSION, n * 3, sig])).mean_ns);
    };
    for (let r = 0; r < rounds; r++) for (const side of r % 2 ? (["large", "small"] as const) : (["small", "large"] as const)) await measure(side);
    for (const h of holders) await h.release();
  } finally {
    for (const i of inits) i.close();
    for (const d of Object.values(daemons)) await d.stop();
  }
  const ratios = (s: number[], l: number[]): number[] => s.map((x, i) => l[i]! / x);
  const rows: Row[] = [];
  const row = (metric: string, s: number[], l: number[]): void => {
    const r = median(ratios(s, l));
    rows.push({ metric, baseline: `${us(median(s))} (${small})`, blinkd: `${us(median(l))} (${large.toLocaleString("en-US")})`, ratio: r, goal: "≤ 1.2×", met: r <= 1.2 });
  };
  row("fork+claim+exit+wait4 cycle", cost.small, cost.large);
  for (const sig of kills) row(`kill(pid, ${sig === 0 ? "0" : "SIGCONT"}) round trip`, killCost[sig]!.small, killCost[sig]!.large);
  return {
    name: "scale",
    title: `Cost with ${small} versus ${large.toLocaleString("en-US")} unrelated processes (two daemons, ${rounds} alternated rounds × ${n} cycles; ratio: median of the rounds' ratios)`,
    rows,
    notes: [
      "the unrelated processes are zombies of another parent, kept until it exits; each daemon holds one count for the whole run",
      hasKill ? "kill: the caller signals itself (a running process; SIGCONT's default action leaves it running)" : "kill: skipped: the protocol has no kill call yet (signal family); only wait/reap is measured",
    ],
    raw: { cost, killCost, roundRatios: { cycle: ratios(cost.small, cost.large), ...Object.fromEntries(kills.map((s) => [`kill${s}`, ratios(killCost[s]!.small, killCost[s]!.large)])) } },
  };
}
