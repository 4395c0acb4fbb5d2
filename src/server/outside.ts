/**
 * The namespace as an entry point sees it from outside (`blinkd run`, the scenario runner's
 * daemon side): the launcher is init's parent outside the namespace. It reserves init's
 * pid, reports the status its host process ended with, forwards the host signals its
 * terminal sends, and reads a process's state. The rules are the actors' (fork.ts, exit.ts,
 * kill.ts); entry points reach them only through this (spec/architecture.layers.test.ts).
 */
import type { Errno } from "../protocol/errno.js";
import type { Kernel } from "../actors/kernel.js";
import type { ProcessState } from "../machine/process.js";
import { reserveFromOutside } from "../actors/fork.js";
import { reportStatus } from "../actors/exit.js";
import { sendFromOutside } from "../actors/kill.js";

/** What an entry point may know of a process: its lifecycle state, group, session, and the signal that stopped it (0 when running). */
export interface ProcessView {
  readonly state: ProcessState;
  readonly pgid: number;
  readonly sid: number;
  readonly stopped: number;
}

export class Outside {
  constructor(private readonly k: Kernel) {}

  /** Reserves the namespace's first process (PID 1, parent 0) for a command the entry point starts: its pid and the token its connection claims with. */
  reserveInit(exe: string, argv: string[], delivery: number): { pid: number; token: string } | Errno {
    return reserveFromOutside(this.k, exe, argv, delivery);
  }

  /** The entry point saw the host process of `pid` end with this wait status (actors/exit.ts, reportStatus). */
  reportStatus(pid: number, wstatus: number): void {
    reportStatus(this.k, pid, wstatus);
  }

  /** A host signal for `pid` from outside the namespace: true when the daemon queued it, false when it should go to the host process as is (actors/kill.ts). */
  forwardSignal(pid: number, signo: number, uid: number): boolean {
    return sendFromOutside(this.k, pid, signo, uid);
  }

  process(pid: number): ProcessView | undefined {
    const state = this.k.state(pid);
    const c = this.k.ctx(pid);
    if (state === undefined || !c) return undefined;
    return { state, pgid: c.pgid, sid: c.sid, stopped: c.job.stopped };
  }
}
