/** `blinkd ps`: the namespace's processes, like procps's `ps -eo pid,ppid,pgid,sid,stat,comm,args`. */
import { Control, findDaemon } from "../client/control.js";
import { stateLetter, type ProcRecord } from "../syscalls/control.js";
import { parse } from "./args.js";

const USAGE = "usage: blinkd ps [--prefix DIR] [--socket PATH] [--json]";

export function formatPs(procs: ProcRecord[]): string {
  const rows = [["PID", "PPID", "PGID", "SID", "STAT", "COMMAND"]];
  for (const p of procs) {
    const args = p.argv.length ? p.argv.join(" ") : `[${p.comm}]`;
    rows.push([String(p.pid), String(p.ppid), String(p.pgid), String(p.sid), stateLetter[p.state] ?? "?", p.state === "zombie" ? `[${p.comm}] <defunct>` : args]);
  }
  const w = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 4 ? c.padStart(w[i]!) : i === 4 ? c.padEnd(w[i]!) : c)).join(" ")).join("\n") + "\n";
}

export async function psCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { prefix: { type: "string" }, socket: { type: "string" }, json: { type: "boolean" } }, USAGE);
  const ctl = await Control.connect(await findDaemon({ socket: values.socket, prefix: values.prefix }));
  try {
    const procs = await ctl.ps();
    process.stdout.write(values.json ? JSON.stringify(procs, null, 2) + "\n" : formatPs(procs));
    return 0;
  } finally {
    ctl.close();
  }
}
