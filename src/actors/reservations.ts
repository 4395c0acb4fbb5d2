/**
 * The fork token (blinkd's own, no Linux counterpart): fork and clone reserve the new
 * task's number at once, as copy_process does, but the task's host process connects later
 * and claims the reservation with the token (spec/protocol.md, fork and claim). An
 * unclaimed reservation lives `reserveTimeoutMs`; when it expires the child never came, so
 * it died (SIGKILL) or the thread never was. The reservations are the registry's
 * (`Kernel.reservations`): this module is the only one that adds or removes them.
 *
 * One timer per namespace expires them all (`Kernel.reserveTimer`), not one per reservation:
 * every reservation lives the same time, so the registry's insertion order is their deadlines'
 * order and the timer is due at the oldest one's. A Timeout, its closure and its numbers were
 * ~250 bytes of each unclaimed fork child's ~680 beside its actor (bench/README.md, issue 18).
 * The timer stays armed when the last reservation goes: a shell forks every few milliseconds,
 * and clearing it at each claim made the next fork arm it again (a timer list built, inserted
 * and cleared per process). Left armed, it runs at the gone reservation's deadline, finds
 * nothing due, and waits for the first one left: about once per reserveTimeoutMs.
 */
import type { Kernel, Reservation } from "./kernel.js";
import { secret } from "./secrets.js";
import { endThread, exitGroup } from "./exit.js";
import { signaled } from "../machine/wstatus.js";
import { SIG } from "../machine/sigset.js";

/** A reservation whose owner never expires it (`blinkd run`'s command: the launcher reports its end). */
export function reserveForever(k: Kernel, pid: number): string {
  const t = secret();
  k.reservations.set(t, { kind: "process", pid, tid: pid, proof: secret(), deadline: undefined });
  return t;
}

/**
 * A reservation that expires after the configured time unless claimed. `chosen`: the token and
 * proof a vforking parent chose itself (actors/vfork.ts), checked unused by its caller.
 */
export function reserve(k: Kernel, kind: "process" | "thread", pid: number, tid: number, chosen?: { token: string; proof: string }): string {
  const t = chosen?.token ?? secret();
  // Whole milliseconds: a small integer, not a heap number per reservation.
  const deadline = Math.ceil(k.now()) + k.config.reserveTimeoutMs;
  k.reservations.set(t, { kind, pid, tid, proof: chosen?.proof ?? secret(), deadline });
  if (!k.reserveTimer) armExpiry(k, deadline);
  return t;
}

function armExpiry(k: Kernel, deadline: number): void {
  if (k.reserveTimer) clearTimeout(k.reserveTimer);
  k.reserveTimer = setTimeout(() => expireDue(k), Math.max(1, Math.ceil(deadline - k.now())));
  k.reserveTimer.unref();
}

/** The timer is due: every reservation past its deadline expires, and the timer waits for the next one's. */
function expireDue(k: Kernel): void {
  k.reserveTimer = undefined;
  const now = k.now();
  for (const [t, r] of k.reservations) {
    if (r.deadline === undefined) continue;
    // In deadline order (reserve's insertion order): the first one not due sets the next wake-up.
    if (r.deadline > now) return armExpiry(k, r.deadline);
    expire(k, t);
  }
}

/** The proof secret of the reservation a token names (claim_fd), without taking it. */
export function reservationProof(k: Kernel, t: string): string | undefined {
  return k.reservations.get(t)?.proof;
}

/** The token of the reservation for this task, if it is still unclaimed. */
export function findReservation(k: Kernel, kind: "process" | "thread", pid: number, tid: number): string | undefined {
  for (const [t, r] of k.reservations) if (r.kind === kind && r.pid === pid && r.tid === tid) return t;
  return undefined;
}

/** Ends a reservation (claimed, aborted, or its task ended); the timer, if armed, runs out (expireDue). */
export function unreserve(k: Kernel, t: string): void {
  k.reservations.delete(t);
}

/** Ends the reservation for this task, if there is one. */
export function unreserveTask(k: Kernel, kind: "process" | "thread", pid: number, tid: number): boolean {
  const t = findReservation(k, kind, pid, tid);
  if (t) unreserve(k, t);
  return t !== undefined;
}

/** Takes the reservation a token names (claim): undefined when it was claimed already, aborted or expired. */
export function takeReservation(k: Kernel, t: string): Reservation | undefined {
  const r = k.reservations.get(t);
  if (r) unreserve(k, t);
  return r;
}

/** Every reservation ends (the namespace is over). */
export function unreserveAll(k: Kernel): void {
  for (const t of [...k.reservations.keys()]) unreserve(k, t);
  if (k.reserveTimer) clearTimeout(k.reserveTimer);
  k.reserveTimer = undefined;
  // And what the posted vforks became (vfork.ts): a claim still waiting learns its parent is gone.
  k.vforks.posted.clear();
  k.vforks.arrived.wake();
}

/** An unclaimed reservation expired: the child never came, so it died (SIGKILL) or the thread never was. */
function expire(k: Kernel, t: string): void {
  const r = k.reservations.get(t);
  if (!r) return;
  k.reservations.delete(t);
  if (r.kind === "thread") endThread(k, r.pid, r.tid);
  else exitGroup(k, r.pid, signaled(SIG.SIGKILL), true);
}
