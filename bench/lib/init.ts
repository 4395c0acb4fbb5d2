/**
 * The namespace's PID 1 for a benchmark: the first process to register is init, and when
 * it exits the namespace is over, so the bench process registers first (with the
 * TypeScript client) and stays init until the daemon stops.
 */
import { ClientConnection } from "../../src/client/connection.js";

export async function holdInit(socket: string): Promise<ClientConnection> {
  const c = await ClientConnection.open(socket);
  await c.hello("guest", "blinkd bench init");
  const r = await c.call("register", { hostpid: process.pid, exe: "/bench/init", argv: ["bench-init"], delivery: 0 });
  if (r.result !== 1) throw new Error(`bench: expected to be PID 1, got ${r.result}`);
  c.unref();
  return c;
}
