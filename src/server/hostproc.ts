/** Facts about a guest's host process, read from the host's /proc. */
import * as fs from "node:fs";

/** Field 22 of /proc/PID/stat (starttime, in clock ticks since boot), or undefined when the process is gone. */
export function hostStartTime(hostpid: number): string | undefined {
  try {
    const s = fs.readFileSync(`/proc/${hostpid}/stat`, "latin1");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

/**
 * Sends a host signal, but only to the same host process that registered: a host pid
 * reused by another program after the guest died is left alone.
 */
export function signalHost(hostpid: number, start: string | undefined, signal: NodeJS.Signals | number): boolean {
  if (hostpid <= 1 || hostpid === process.pid) return false;
  if (start !== undefined && hostStartTime(hostpid) !== start) return false;
  try {
    process.kill(hostpid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The real, effective and saved uids of a host process (/proc/PID/status "Uid:"), or undefined when it is gone. */
export function hostCreds(hostpid: number): { ruid: number; euid: number; suid: number } | undefined {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${hostpid}/status`, "latin1"));
    return m ? { ruid: Number(m[1]), euid: Number(m[2]), suid: Number(m[3]) } : undefined;
  } catch {
    return undefined;
  }
}
