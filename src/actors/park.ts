/**
 * Parking a blocking call. The call's fiber runs uninterruptibly except while it sleeps
 * on its wait queues: `attempt` checks and, if it can, takes its value (reaps the zombie,
 * reads the counter) in one synchronous step, and the dispatcher sends the reply inside
 * the same uninterruptible region. An interrupt therefore lands either before the value
 * was taken (the call replies -512, ERESTARTSYS, which the client turns into EINTR or a restart under SA_RESTART, and nothing was consumed) or after (the real result
 * is replied): never between, so nothing is lost or counted twice.
 */
import * as Effect from "effect/Effect";
import type { Errno } from "../protocol/errno.js";
import type { WaitQueue } from "./waitqueue.js";

export const NOT_READY: unique symbol = Symbol("NOT_READY");
export type Attempt<A> = A | Errno | typeof NOT_READY;

/** Lets only the wait itself be interrupted; given by the dispatcher. */
export type Interruptible = <A, E>(e: Effect.Effect<A, E>) => Effect.Effect<A, E>;

type Woke = "woken" | "timeout";

function sleepOn(queues: readonly WaitQueue[], deadline: number | undefined, now: () => number): Effect.Effect<Woke> {
  return Effect.async<Woke>((resume) => {
    let timer: NodeJS.Timeout | undefined;
    const waker = (): void => {
      done();
      resume(Effect.succeed("woken"));
    };
    const done = (): void => {
      for (const q of queues) q.delete(waker);
      if (timer) clearTimeout(timer);
    };
    for (const q of queues) q.add(waker);
    if (deadline !== undefined) {
      timer = setTimeout(() => {
        done();
        resume(Effect.succeed("timeout"));
      }, Math.max(0, deadline - now()));
    }
    return Effect.sync(done);
  });
}

export interface ParkOptions<A> {
  /** Absolute deadline on `now`'s clock; a restarted call keeps it, so it never extends. */
  readonly deadline?: number;
  readonly now?: () => number;
  /** The result when the deadline passes. */
  readonly onTimeout?: () => A | Errno;
}

export function park<A>(
  interruptible: Interruptible,
  queues: () => readonly WaitQueue[],
  attempt: () => Attempt<A>,
  opts: ParkOptions<A> = {},
): Effect.Effect<A, Errno> {
  const now = opts.now ?? Date.now;
  const step = (): Effect.Effect<A, Errno> =>
    Effect.suspend(() => {
      const r = attempt();
      if (r === NOT_READY) {
        if (opts.deadline !== undefined && now() >= opts.deadline) return settle(opts.onTimeout ? opts.onTimeout() : (undefined as A));
        return interruptible(sleepOn(queues(), opts.deadline, now)).pipe(
          Effect.flatMap((w) => {
            if (w === "timeout") {
              const again = attempt();
              if (again !== NOT_READY) return settle(again);
              return settle(opts.onTimeout ? opts.onTimeout() : (undefined as A));
            }
            return step();
          }),
        );
      }
      return settle(r);
    });
  return step();
}

function settle<A>(r: A | Errno): Effect.Effect<A, Errno> {
  return isErrno(r) ? Effect.fail(r) : Effect.succeed(r);
}

function isErrno(r: unknown): r is Errno {
  return typeof r === "object" && r !== null && (r as { _tag?: unknown })._tag === "Errno";
}
