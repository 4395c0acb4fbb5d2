/**
 * The set-up the hardening suites share: one real host process (`sleep`) whose pid every guest
 * registers or claims with, and the daemons a file starts, all stopped after the file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import { startDaemon, type Daemon } from "../../fuzz/daemon.js";
import { ClientConnection } from "../../src/client/connection.js";
import { StandIn } from "./raw.js";

export interface HardenSetup {
  /** The host process's pid, for register and claim. */
  hostpid(): number;
  /** Starts a daemon (`startDaemon`'s arguments) that is stopped after the file. */
  daemon(args?: string[], prefix?: string): Promise<Daemon>;
  /**
   * A guest connection: a fresh registration, whose host process is a stand-in of its own that
   * proves it (so the process has this user's uids, and the daemon may signal that stand-in),
   * or the claim of `token` (the child half of a fork, which has its parent's uids).
   */
  guest(socket: string, token?: string): Promise<ClientConnection & { pid: number }>;
}

/** Registers the file's beforeAll/afterAll; `name` is what the guests say in their hello. */
export function hardenSetup(name: string): HardenSetup {
  let victim: ChildProcess;
  const daemons: Daemon[] = [];
  const standIns: StandIn[] = [];
  beforeAll(() => {
    victim = spawn("sleep", ["100000"], { stdio: "ignore" });
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    victim.kill("SIGKILL");
    for (const s of standIns) s.kill();
  });
  const hostpid = (): number => victim.pid!;
  return {
    hostpid,
    async daemon(args = [], prefix) {
      const d = await startDaemon(args, prefix);
      daemons.push(d);
      return d;
    },
    async guest(socket, token) {
      const c = await ClientConnection.open(socket);
      const h = await c.hello("guest", name);
      let pid: number;
      if (token) pid = (await c.call("claim", { token, hostpid: hostpid() })).out.pid;
      else {
        const s = StandIn.start();
        standIns.push(s);
        await s.prove(h.nonce);
        pid = (await c.call("register", { hostpid: s.pid, exe: "/g", argv: ["g"], delivery: 0 })).result;
      }
      c.dropProof();
      return Object.assign(c, { pid });
    },
  };
}
