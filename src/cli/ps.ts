/** `blinkd ps`: the namespace's processes, as procps prints `ps -eo pid,ppid,pgid,sid,stat,comm,args`. */
import type { ProcRecord } from "../protocol/records.js";
import { CONTROL_USAGE, connectControl, controlOptions, parse } from "./args.js";

const USAGE = `usage: blinkd ps ${CONTROL_USAGE} [--json]`;

/** procps's PID columns are as wide as pid_max's largest value, at least 5 (ps/global.c). */
export function pidWidth(pidMax: number): number {
  return Math.max(5, String(pidMax).length);
}

/** procps's args column: the command line joined by spaces; "[comm]" without one; "[comm] <defunct>" for a zombie. */
export function argsText(p: ProcRecord): string {
  if (p.state === "zombie") return `[${p.comm}] <defunct>`;
  return p.argv.length ? p.argv.join(" ") : `[${p.comm}]`;
}

export function formatPs(procs: ProcRecord[], pidMax: number): string {
  const w = pidWidth(pidMax);
  const row = (pid: string, ppid: string, pgid: string, sid: string, stat: string, comm: string, args: string): string =>
    [pid.padStart(w), ppid.padStart(w), pgid.padStart(w), sid.padStart(w), stat.padEnd(4), comm.padEnd(15), args].join(" ");
  const lines = [row("PID", "PPID", "PGID", "SID", "STAT", "COMMAND", "COMMAND")];
  for (const p of procs) lines.push(row(String(p.pid), String(p.ppid), String(p.pgid), String(p.sid), p.stat, p.comm, argsText(p)));
  return lines.join("\n") + "\n";
}

export async function psCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...controlOptions, json: { type: "boolean" } }, USAGE);
  const ctl = await connectControl(values);
  try {
    const procs = await ctl.ps();
    process.stdout.write(values.json ? JSON.stringify(procs, null, 2) + "\n" : formatPs(procs, ctl.pidMax));
    return 0;
  } finally {
    ctl.close();
  }
}
