/**
 * The blinkd side: every process of the scenario is a Node.js agent (agent.ts), a
 * TypeScript guest of a fresh daemon. A background call is inside the daemon once the
 * agent's later call on the same connection has been answered, which the agent reports
 * itself ("b SEQ", the barrier).
 */
import { DaemonSide, type InitCommand } from "./daemon.js";
import { TS_AGENT } from "../files.js";
import { DELIVERY } from "../../protocol/calls/session.js";


export class BlinkdSide extends DaemonSide {
  readonly label = "blinkd";
  readonly barrier = true;

  protected initCommand(coord: string): InitCommand {
    return {
      image: { exe: process.execPath, argv: [process.execPath, TS_AGENT, "init"] },
      delivery: DELIVERY.EVENTS,
      command: process.execPath,
      args: [TS_AGENT, "init"],
      env: (d, token) => ({ ...process.env, BLINKD_SOCKET: d.socket, BLINK_PREFIX: d.prefix, BLINKD_TOKEN: token, BLINKD_SCRIPT_COORD: coord }),
    };
  }

  blockedIn(): boolean {
    return false;
  }
}
