/**
 * vfork without a round trip on the critical path (blinkd's own, spec/protocol.md §7.4.1). A
 * vforking parent is suspended until its child execs or exits (vfork(2)), so it need not wait
 * for the reservation's reply before it vforks: it chooses the token and the proof itself, sends
 * `vfork` and vforks at once, and reads the reply (the child's pid, or the failure) once it
 * resumes. Its child claims that token on its own connection (`claim_vfork`) without waiting for
 * the answer either: its new image reads it before the program runs. The two connections have
 * no order between them, so a claim may come before the reservation: it then waits (bounded by
 * reserveTimeoutMs) on `Kernel.vforks.arrived`, which every reservation and every closed guest
 * connection wakes. What each token became (its reservation, or the failure that made no child)
 * is remembered until the child claims it or the reservation's deadline passes.
 */
import { E, Errno, errno } from "../protocol/errno.js";
import type { Kernel } from "./kernel.js";
import { fork, forkAbort } from "./fork.js";
import { NOT_READY, park, type Attempt, type Parked } from "./park.js";

/** A token or proof as the daemon's own secrets are (secrets.ts): 16 random bytes, 32 hex digits. */
const SECRET = /^[0-9a-f]{32}$/;

export const badSecret = (what: string, s: string): Errno | undefined =>
  SECRET.test(s) ? undefined : errno(E.EINVAL, `${what}: expected 32 lowercase hex digits (16 random bytes), got ${s.length} characters`);

/** Forgets the posted tokens whose deadline has passed (in insertion order, which is nearly their deadlines'). */
function sweep(k: Kernel): void {
  const now = k.now();
  for (const [t, p] of k.vforks.posted) {
    if (p.deadline > now) return;
    k.vforks.posted.delete(t);
  }
}

/**
 * The remembered tokens are bounded by --max-tasks: one that holds a reservation holds a task,
 * so past the bound the oldest spent one (claimed, failed or given up, kept only to refuse a
 * second claim at once) makes room; a loop of vforks faster than reserveTimeoutMs never fills it.
 */
function makeRoom(k: Kernel): boolean {
  if (k.vforks.posted.size < k.config.maxTasks) return true;
  for (const [t, p] of k.vforks.posted) {
    if (p.pid !== undefined) continue;
    k.vforks.posted.delete(t);
    return true;
  }
  return false;
}

const deadline = (k: Kernel): number => Math.ceil(k.now()) + k.config.reserveTimeoutMs;

/**
 * The parent's reservation, sent before it vforks and read after it resumes: fork(2)'s under the
 * parent's token and proof. The child's pid, or the failure that made no child (kernel_clone's
 * -EAGAIN at the pid or task limit), as Linux's vfork makes none; the failure is remembered for
 * the child's claim too, so the child runs nothing of its program.
 */
export function vforkReserve(k: Kernel, parentPid: number, parentTid: number, token: string, proof: string): number | Errno {
  const bad = badSecret("vfork.token", token) ?? badSecret("vfork.proof", proof);
  if (bad) return bad;
  sweep(k);
  // A token is used once: a second reservation, or one after its claim gave up waiting, makes
  // nothing. The parent whose child gave up learns why (its claim's ETIMEDOUT).
  const had = k.vforks.posted.get(token);
  if (had && had.ppid === parentPid && had.failure?.code === E.ETIMEDOUT) return had.failure;
  if (had || k.reservations.has(token)) return errno(E.EEXIST, "vfork.token: this token was used already");
  if (!makeRoom(k)) return errno(E.EAGAIN, `${k.vforks.posted.size} vforks posted and not yet claimed (the --max-tasks limit)`);
  const r = fork(k, parentPid, parentTid, { token, proof });
  k.vforks.posted.set(token, r instanceof Errno ? { ppid: parentPid, pid: undefined, failure: r, deadline: deadline(k) } : { ppid: parentPid, pid: r.pid, failure: undefined, deadline: deadline(k) });
  k.vforks.arrived.wake();
  return r instanceof Errno ? r : r.pid;
}

/** The host vfork failed: the posted reservation is undone as fork_abort undoes fork's. */
export function vforkAbort(k: Kernel, parentPid: number, token: string): 0 | Errno {
  const p = k.vforks.posted.get(token);
  if (!p || p.ppid !== parentPid) return errno(E.ESRCH, `no unclaimed vfork of ${parentPid} under this token`);
  k.vforks.posted.delete(token);
  return p.pid === undefined ? 0 : forkAbort(k, parentPid, p.pid);
}

type Claimed = { result: number; out: { pid: number } };

/** A second claim's answer, made once: an Errno is readonly, and making one with its detail per claim cost ~20 µs of every vfork. */
const CLAIMED = errno(E.ENOENT, "this vfork token was claimed already");

/**
 * The child's claim: `bind` claims the posted reservation (claim_fd's path) once it is there.
 * Before the post, it waits unless the named parent is not a live process of the namespace.
 */
export function vforkClaim(k: Kernel, token: string, ppid: number, bind: () => Claimed | Errno): Claimed | Errno | Parked<Claimed> {
  const attempt = (): Attempt<Claimed> => {
    const p = k.vforks.posted.get(token);
    if (p) {
      // The token alone is not enough: it must be ppid's vfork (a wrong pairing takes nothing).
      if (p.ppid !== ppid) return errno(E.ENOENT, `no vfork of ${ppid} posted this token`);
      // Linux's vfork fails with no child (kernel_clone: copy_process's -EAGAIN): so does this claim.
      if (p.failure || p.pid === undefined) return p.failure ?? errno(E.ENOENT);
      // Claimed once: a second claim is refused at once until the token is forgotten.
      k.vforks.posted.set(token, { ...p, pid: undefined, failure: CLAIMED });
      const r = bind();
      // The child was killed (SIGKILL) or expired before it ran: its parent's vfork still
      // returns its pid, and wait4 gives its status. Result 0: not bound, out.pid is that child.
      if (r instanceof Errno && r.code === E.ENOENT) return { result: 0, out: { pid: p.pid } };
      return r;
    }
    const state = k.state(ppid);
    if (state !== "running") return errno(E.ESRCH, `claim_vfork.ppid: ${ppid} is not a live process of the namespace (${state ?? "no such pid"}): its vfork will not come`);
    return NOT_READY;
  };
  const now = attempt();
  if (now !== NOT_READY) return now;
  return park(() => [k.vforks.arrived], attempt, {
    deadline: deadline(k),
    now: () => k.now(),
    onTimeout: () => {
      // The token is dead: a post that comes later makes no child the parent would not know of.
      k.vforks.posted.set(token, { ppid, pid: undefined, failure: errno(E.ETIMEDOUT, "the vfork child gave up waiting for this reservation"), deadline: deadline(k) });
      return errno(E.ETIMEDOUT, `no vfork of ${ppid} posted this token within ${k.config.reserveTimeoutMs} ms (reserveTimeoutMs)`);
    },
  });
}
