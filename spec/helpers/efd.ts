/** Small helpers for eventfd suites: calls through an agent that must succeed, and handshakes. */
import type { Agent } from "./agent.js";

export const MAX = 0xfffffffffffffffen;

export async function efd(a: Agent, initval = 0, flags = 0): Promise<number> {
  return (await a.ok("eventfd2", { initval, flags })).result;
}

export async function info(a: Agent, fd: number): Promise<{ count: bigint; flags: number; semaphore: boolean; id: number; cloexec: boolean; waiters: number }> {
  const o = (await a.ok("eventfd_info", { fd })).out!;
  return { ...(o as { flags: number; semaphore: boolean; id: number; cloexec: boolean; waiters: number }), count: BigInt(o.count as number | bigint) };
}

/** Waits until `n` calls are parked on the eventfd: a handshake through the daemon, no sleep. */
export async function parked(a: Agent, fd: number, n: number): Promise<void> {
  for (let i = 0; i < 100000; i++) {
    if ((await info(a, fd)).waiters === n) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never saw ${n} parked calls on descriptor ${fd}`);
}

/** The value of a successful eventfd_read reply. */
export function value(r: { ok: boolean; out?: Record<string, unknown>; code?: string }): bigint {
  if (!r.ok) throw new Error(`read failed: ${r.code}`);
  return BigInt(r.out!.value as number | bigint);
}
