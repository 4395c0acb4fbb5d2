/**
 * What a wait/reap costs with 100 versus 10,000 unrelated processes in the namespace: the
 * protocol fork → claim → exit → wait cycle (bench/forkcycle.ts) timed with that many
 * zombies of another parent standing by. No operation may scan the namespace, so the cost
 * must not grow with it. kill's round trip is timed the same way.
 */
import { PROTOCOL_VERSION, table } from "../src/protocol/index.js";
import { holdInit } from "./lib/init.js";
import { holdLoadgen, loadgen, startDaemon } from "./lib/procs.js";
import { us, type Result, type Row } from "./lib/report.js";

interface Cycles {
  cycles: number;
  cycles_per_s: number;
}

export async function scale(quick: boolean): Promise<Result> {
  const small = 100;
  const large = quick ? 2000 : 10000;
  const n = quick ? 300 : 3000;
  const rounds = quick ? 1 : 3;
  const d = await startDaemon();
  const init = await holdInit(d.socket);
  const cost: { small: number[]; large: number[] } = { small: [], large: [] };
  const hasKill = table.byName.has("kill");
  // kill(own pid, 0): lookup and permission (kill_pid_info, check_kill_permission);
  // kill(own pid, SIGCONT): the whole send path for a running process that ignores it.
  const kills = [0, 18];
  const killCost: Record<string, { small: number[]; large: number[] }> = Object.fromEntries(kills.map((s) => [s, { small: [], large: [] }]));
  const measureKill = async (which: "small" | "large"): Promise<void> => {
    if (!hasKill) return;
    for (const sig of kills) killCost[sig]![which].push((await loadgen<{ mean_ns: number }>(["kill", d.socket, PROTOCOL_VERSION, n * 3, sig])).mean_ns);
  };
  const holders: { release(): Promise<void> }[] = [];
  try {
    await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, n, 0]); // warm up
    holders.push(await holdLoadgen(["zombies", d.socket, PROTOCOL_VERSION, small]));
    await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, Math.ceil(n / 3), 0]); // settle after the zombies' creation
    for (let r = 0; r < rounds; r++) {
      cost.small.push(1e9 / (await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, n, 0])).cycles_per_s);
      await measureKill("small");
    }
    holders.push(await holdLoadgen(["zombies", d.socket, PROTOCOL_VERSION, large - small]));
    await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, Math.ceil(n / 3), 0]);
    for (let r = 0; r < rounds; r++) {
      cost.large.push(1e9 / (await loadgen<Cycles>(["forkcycle", d.socket, PROTOCOL_VERSION, n, 0])).cycles_per_s);
      await measureKill("large");
    }
    for (const h of holders) await h.release();
  } finally {
    init.close();
    await d.stop();
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = med(cost.small);
  const l = med(cost.large);
  const rows: Row[] = [
    { metric: "fork+claim+exit+wait4 cycle", baseline: `${us(s)} (${small})`, blinkd: `${us(l)} (${large.toLocaleString("en-US")})`, ratio: l / s, goal: "≤ 1.2×", met: l / s <= 1.2 },
  ];
  for (const sig of hasKill ? kills : []) {
    const ks = med(killCost[sig]!.small);
    const kl = med(killCost[sig]!.large);
    rows.push({ metric: `kill(pid, ${sig === 0 ? "0" : "SIGCONT"}) round trip`, baseline: `${us(ks)} (${small})`, blinkd: `${us(kl)} (${large.toLocaleString("en-US")})`, ratio: kl / ks, goal: "≤ 1.2×", met: kl / ks <= 1.2 });
  }
  return {
    name: "scale",
    title: `Cost with ${small} versus ${large.toLocaleString("en-US")} unrelated processes (baseline: the ${small} case; ${rounds} × ${n} cycles)`,
    rows,
    notes: [
      "the unrelated processes are zombies of another parent, kept until it exits",
      hasKill ? "kill: the caller signals itself (a running process; SIGCONT's default action leaves it running)" : "kill: skipped: the protocol has no kill call yet (signal family); only wait/reap is measured",
    ],
    raw: { cost, killCost },
  };
}
