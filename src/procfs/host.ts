/**
 * Facts procfs takes from the host when the guest has not reported them: the host
 * process's own /proc entries (a blink guest's host process has the guest's environment,
 * working directory, group ids and memory), and the few machine-wide values a status file
 * carries (capability bounding set, CPU and memory node masks, speculation mitigations).
 * Read at render time only, never on a call's hot path.
 */
import * as fs from "node:fs";

/** The "Key:\tvalue" lines of a status file, by key. */
export function parseStatus(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).replace(/^\t/, ""));
  }
  return m;
}

function read(path: string): Buffer | undefined {
  try {
    return fs.readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The host process's /proc/PID/status, or undefined when it is gone or unreadable. */
export function hostStatus(hostpid: number): Map<string, string> | undefined {
  if (hostpid <= 1) return undefined;
  const b = read(`/proc/${hostpid}/status`);
  return b ? parseStatus(b.toString("latin1")) : undefined;
}

/**
 * The fields of the host's /proc/HOSTPID/stat (or of its task TID) after the comm, from
 * field 3 (state) on: fields[n - 3] is proc(5)'s field n. Undefined when it is gone.
 */
export function hostStat(hostpid: number, tid?: number): readonly string[] | undefined {
  if (hostpid <= 1) return undefined;
  const b = read(tid === undefined ? `/proc/${hostpid}/stat` : `/proc/${hostpid}/task/${tid}/stat`);
  if (!b) return undefined;
  const s = b.toString("latin1");
  return s.slice(s.lastIndexOf(")") + 2).trimEnd().split(" ");
}

export function hostEnviron(hostpid: number): Uint8Array | undefined {
  return hostpid > 1 ? read(`/proc/${hostpid}/environ`) : undefined;
}

/** The host process's memory map (/proc/HOSTPID/maps): a native guest's own. */
export function hostMaps(hostpid: number): Buffer | undefined {
  return hostpid > 1 ? read(`/proc/${hostpid}/maps`) : undefined;
}

export function hostCwd(hostpid: number): string | undefined {
  if (hostpid <= 1) return undefined;
  try {
    return fs.readlinkSync(`/proc/${hostpid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The daemon's own status: the machine-wide lines every process's status repeats. */
let own: Map<string, string> | undefined;
export function machineStatus(): Map<string, string> {
  own ??= hostStatus(process.pid) ?? parseStatus(read("/proc/self/status")?.toString("latin1") ?? "");
  return own;
}

/**
 * Milliseconds since the host booted at performance.now() == 0, measured once: /proc's
 * start times are clock ticks since boot (field 22 of stat), and /proc/uptime says how
 * long ago boot was.
 */
let bootOffset: number | undefined;
export function bootOffsetMs(): number {
  if (bootOffset === undefined) {
    const up = Number((read("/proc/uptime")?.toString("latin1") ?? "0").split(" ")[0]);
    bootOffset = up * 1000 - performance.now();
  }
  return bootOffset;
}

/** USER_HZ: the clock ticks /proc counts in (sysconf(_SC_CLK_TCK), 100 on x86-64). */
export const CLK_TCK = 100;
/** PAGE_SIZE on x86-64. */
export const PAGE_SIZE = 4096n;
