/**
 * The fork token (blinkd's own, no Linux counterpart): fork and clone reserve the new
 * task's number at once, as copy_process does, but the task's host process connects later
 * and claims the reservation with the token (spec/protocol.md, fork and claim). An
 * unclaimed reservation lives `reserveTimeoutMs`; when it expires the child never came, so
 * it died (SIGKILL) or the thread never was. The reservations are the registry's
 * (`Kernel.reservations`): this module is the only one that adds or removes them.
 */
import type { Kernel, Reservation } from "./kernel.js";
import { secret } from "./secrets.js";
import { endThread, exitGroup } from "./exit.js";
import { signaled } from "../machine/wstatus.js";
import { SIG } from "../machine/sigset.js";

/** A reservation whose owner never expires it (`blinkd run`'s command: the launcher reports its end). */
export function reserveForever(k: Kernel, pid: number): string {
  const t = secret();
  k.reservations.set(t, { kind: "process", pid, tid: pid, proof: secret(), timer: undefined });
  return t;
}

/** A reservation that expires after the configured time unless claimed. */
export function reserve(k: Kernel, kind: "process" | "thread", pid: number, tid: number): string {
  const t = secret();
  const r: Reservation = { kind, pid, tid, proof: secret(), timer: undefined };
  r.timer = setTimeout(() => expire(k, t), k.config.reserveTimeoutMs);
  r.timer.unref();
  k.reservations.set(t, r);
  return t;
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

/** Ends a reservation (claimed, aborted, or its task ended): its timer stops. */
export function unreserve(k: Kernel, t: string): void {
  const r = k.reservations.get(t);
  if (r?.timer) clearTimeout(r.timer);
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
}

/** An unclaimed reservation expired: the child never came, so it died (SIGKILL) or the thread never was. */
function expire(k: Kernel, t: string): void {
  const r = k.reservations.get(t);
  if (!r) return;
  k.reservations.delete(t);
  if (r.kind === "thread") endThread(k, r.pid, r.tid);
  else exitGroup(k, r.pid, signaled(SIG.SIGKILL), true);
}
