/** `blinkd check`: runs the daemon's consistency checker; exit 0 when every invariant holds, 1 otherwise. */
import type { CheckReport } from "../protocol/records.js";
import { CONTROL_USAGE, connectControl, controlOptions, parse } from "./args.js";

const USAGE = `usage: blinkd check ${CONTROL_USAGE} [--json]`;

export function formatCheck(r: CheckReport): string {
  const c = r.counts;
  const mib = (n: number | undefined): string => ((n ?? 0) / (1 << 20)).toFixed(1);
  const lines = [
    r.ok ? "ok: every invariant holds" : `${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}:`,
    ...r.problems.map((p) => `  - ${p}`),
    `processes ${c.processes ?? 0} (zombies ${c.zombies ?? 0}, unclaimed ${c.embryos ?? 0}), threads ${c.threads ?? 0}, reservations ${c.reservations ?? 0}`,
    `connections ${c.connections ?? 0} (${c.lingering ?? 0} more closing), parked calls ${c.parked ?? 0}, buffered bytes ${c.bufferedBytes ?? 0}`,
    `daemon descriptors ${c.descriptors ?? 0}, open files ${c.files ?? 0}`,
    `heap ${mib(c.heapNow)} MiB after GC (${mib(c.heapStart)} MiB at start)`,
  ];
  const known = new Set(["processes", "zombies", "embryos", "threads", "reservations", "connections", "lingering", "parked", "bufferedBytes", "heapNow", "heapStart", "tasks", "native", "waiters", "pidRefs", "descriptors", "files", "filesUnnamed", "fileRefsBeyondDescriptors"]);
  const more = Object.entries(c).filter(([k]) => !known.has(k));
  if (more.length) lines.push(more.map(([k, v]) => `${k} ${v}`).join(", "));
  return lines.join("\n") + "\n";
}

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...controlOptions, json: { type: "boolean" } }, USAGE);
  const ctl = await connectControl(values);
  try {
    const r = await ctl.check();
    process.stdout.write(values.json ? JSON.stringify(r, null, 2) + "\n" : formatCheck(r));
    return r.ok ? 0 : 1;
  } finally {
    ctl.close();
  }
}
