/**
 * The blink side: the Linux side's program (linux-agent.c) run in the patched blink
 * (clients/blink/) as the processes of a fresh daemon's namespace, init first, as `blinkd
 * run --blink` starts its command. Every system call the agent makes is blink's, and the
 * ones blink hands to blinkd (spec/blink.md) are the daemon's, so the trace shows what a
 * C program sees in blink.
 *
 * When a background call is inside the kernel: the host process is blink, whose /proc
 * wchan says nothing about the guest's call, and the agent sends no barrier; but the calls
 * that block (wait4, waitid, an eventfd's read and write) block in the daemon, which holds
 * them as parked calls of the caller's thread until they return.
 */
import { spawnSync } from "node:child_process";
import { blinkEnv, blinkMissing, blinkPath } from "../../native/blink.js";
import type { CallName } from "../../protocol/index.js";
import { DELIVERY } from "../../protocol/calls/session.js";
import type { AgentInfo } from "../coordinator.js";
import { DaemonSide, type InitCommand } from "./daemon.js";
import { buildLinuxAgent } from "./linux.js";

/** The daemon call a blink guest parks in for each blocking step's x86-64 system call. */
const PARKS_IN: ReadonlyMap<number, CallName> = new Map<number, CallName>([
  [61, "wait4_sigchld"], // wait4: blink's BlinkdWait4 (patch 0029: the SIGCHLD with the reply)
  [247, "waitid_sigchld"], // waitid: BlinkdWaitid
  [0, "eventfd_read"], // read(2) of an eventfd: blink/daemonfd.c
  [1, "eventfd_write"], // write(2) of an eventfd
]);

/** Why the blink side cannot run here, or undefined when it can. */
export function blinkUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = blinkMissing(blinkPath(undefined, env));
  if (missing) return missing;
  const cc = spawnSync("cc", ["--version"], { stdio: "ignore" });
  if (cc.status !== 0) return "no C compiler (cc) to build the agent";
  return undefined;
}

export class BlinkSide extends DaemonSide {
  readonly label = "blink";
  readonly barrier = false;

  protected initCommand(coord: string): InitCommand {
    const agent = buildLinuxAgent();
    const argv = [agent, coord, "init"];
    return {
      image: { exe: agent, argv },
      delivery: DELIVERY.HOST_BLOCKED,
      command: blinkPath(undefined, process.env),
      args: argv,
      env: (d, token) => ({ ...blinkEnv(process.env), BLINKD_SOCKET: d.socket, BLINKD_TOKEN: token }),
    };
  }

  blockedIn(a: AgentInfo, syscall: number): boolean {
    const call = PARKS_IN.get(syscall);
    if (!call) throw new Error(`the blink side cannot tell when system call ${syscall} blocks: add it to PARKS_IN in src/script/sides/blink.ts`);
    // The agent has one thread, whose tid is its pid.
    return this.daemon.core.parkedCalls(a.pid).some((p) => p.call === call);
  }
}
