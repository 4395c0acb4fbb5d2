/** `blinkd inspect PID` / `inspect --all`: the actors' snapshots (state, context, parked calls, descriptors). */
import { Control, findDaemon } from "../client/control.js";
import type { ActorRecord } from "../syscalls/control.js";
import { UsageError, parse } from "./args.js";
import { checkCommand } from "./check.js";

const USAGE = "usage: blinkd inspect [--prefix DIR] [--socket PATH] [--json] (PID | --all | --check)";

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
  const { values, positionals } = parse(argv, { prefix: { type: "string" }, socket: { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" } }, USAGE);
  if (values.all ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError(`give one PID, or --all\n${USAGE}`);
  let pid = 0;
  if (!values.all) {
    pid = Number(positionals[0]);
    if (!Number.isInteger(pid) || pid < 1 || pid > 0x7fffffff) throw new UsageError(`PID must be a whole number from 1, not ${JSON.stringify(positionals[0])}\n${USAGE}`);
  }
  const ctl = await Control.connect(await findDaemon({ socket: values.socket, prefix: values.prefix }));
  try {
    const actors = await ctl.inspect(pid);
    process.stdout.write(values.json ? JSON.stringify(actors, null, 2) + "\n" : formatActors(actors));
    return 0;
  } finally {
    ctl.close();
  }
}
