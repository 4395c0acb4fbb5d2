/** `blinkd inspect PID` / `inspect --all`: the actors' snapshots (state, context, parked calls, descriptors). */
import type { ActorRecord } from "../protocol/records.js";
import { CONTROL_USAGE, UsageError, connectControl, controlOptions, parse, pidOperand } from "./args.js";
import { checkCommand } from "./check.js";

const USAGE = `usage: blinkd inspect ${CONTROL_USAGE} [--json] (PID | --all | --check)`;

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

export function formatActors(actors: ActorRecord[]): string {
  const L: string[] = [];
  for (const a of actors) {
    L.push(`${a.id} (${a.kind}): ${show(a.state)}`);
    const ctx = a.context as Record<string, unknown>;
    for (const [k, v] of Object.entries(ctx)) {
      if (k === "info" && v && typeof v === "object") {
        for (const [ik, iv] of Object.entries(v as Record<string, unknown>))
          L.push(`  info.${ik}: ${ik === "environ" && Array.isArray(iv) ? `${iv.length} variables` : show(iv)}`);
        continue;
      }
      L.push(`  ${k}: ${show(v)}`);
    }
    if (a.parked) L.push(`  parked calls: ${a.parked.length ? a.parked.map((p) => `${p.call} (seq ${p.seq})`).join(", ") : "none"}`);
    if (a.fds) L.push(`  descriptors: ${a.fds.length ? a.fds.map(show).join(", ") : "none"}`);
    if (a.holders) L.push(`  held by: ${a.holders.map((h) => `${h.pid} (fd ${h.fd}${h.cloexec ? ", cloexec" : ""})`).join(", ")}`);
    if (a.waiters !== undefined) L.push(`  waiters: ${a.waiters}`);
  }
  return L.join("\n") + "\n";
}

export async function inspectCommand(argv: string[]): Promise<number> {
  // --check: the daemon's consistency checker, the same as `blinkd check`.
  if (argv.includes("--check")) return checkCommand(argv.filter((a) => a !== "--check"));
  const { values, positionals } = parse(argv, { ...controlOptions, json: { type: "boolean" }, all: { type: "boolean" } }, USAGE, { max: 1 });
  if (values.all ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError(`give one PID, or --all\n${USAGE}`);
  let pid = 0;
  if (!values.all) {
    pid = pidOperand(positionals[0]!, USAGE);
  }
  const ctl = await connectControl(values);
  try {
    const actors = await ctl.inspect(pid);
    process.stdout.write(values.json ? JSON.stringify(actors, null, 2) + "\n" : formatActors(actors));
    return 0;
  } finally {
    ctl.close();
  }
}
