/**
 * /proc/stat: the host's file with its process counters (show_stat in fs/proc/stat.c)
 * taken from the namespace: "processes" (total_forks: processes and threads created),
 * "procs_running" (tasks in state R) and "procs_blocked" (tasks in D, which no emulated
 * task ever is).
 */
import * as fs from "node:fs";
import type { Kernel } from "../actors/kernel.js";

export interface ProcessCounters {
  readonly processes: number;
  readonly running: number;
  readonly blocked: number;
}

export function processCounters(k: Kernel): ProcessCounters {
  let running = 0;
  for (const t of k.threads.values()) if (t.getSnapshot().value === "embryo") running++;
  return { processes: k.created, running, blocked: 0 };
}

export function renderSysStat(c: ProcessCounters, host: string = readHost()): string {
  const lines = host.split("\n").filter((l) => l !== "");
  const put = (key: string, v: number): void => {
    const i = lines.findIndex((l) => l.startsWith(key + " "));
    const line = `${key} ${v}`;
    if (i >= 0) lines[i] = line;
    else lines.push(line);
  };
  put("processes", c.processes);
  put("procs_running", c.running);
  put("procs_blocked", c.blocked);
  return lines.join("\n") + "\n";
}

function readHost(): string {
  try {
    return fs.readFileSync("/proc/stat", "latin1");
  } catch {
    return "";
  }
}
