/**
 * One eventfd object (fs/eventfd.c struct eventfd_ctx): an exact unsigned 64-bit counter and
 * the EFD_SEMAPHORE bit. The machine decides what one read or write does to the counter;
 * blocking, O_NONBLOCK and wake-ups belong to the caller (actors/files.ts, syscalls/eventfd.ts).
 *
 *   open ─ empty ⇄ readable ⇄ saturated      (by the counter: 0, 1..MAX-1, MAX)
 *     └──FREE──▶ freed                        (the last reference closed)
 *
 * A READ or WRITE that cannot proceed leaves the counter alone and reports "again": the caller
 * then returns EAGAIN or parks. Each event's outcome is in `context.last` right after `send`.
 */
import { and, assign, setup } from "xstate";

/** The largest value the counter holds: ULLONG_MAX - 1 (a write may never make it ULLONG_MAX). */
export const EFD_MAX = 0xfffffffffffffffen;
export const ULLONG_MAX = 0xffffffffffffffffn;

export interface EventfdInput {
  /** eventfd-id in fdinfo (the ida number in Linux). */
  readonly id: number;
  readonly count: bigint;
  readonly semaphore: boolean;
}

export type EventfdOutcome = { readonly ok: true; readonly value: bigint } | { readonly ok: false };

export interface EventfdContext extends EventfdInput {
  count: bigint;
  last: EventfdOutcome;
}

export type EventfdEvent = { type: "READ" } | { type: "WRITE"; value: bigint } | { type: "FREE" };

export const AGAIN: EventfdOutcome = { ok: false };

// eventfd_read_iter: a read waits while ctx->count is 0.
export const canRead = (c: Pick<EventfdContext, "count">): boolean => c.count > 0n;
// eventfd_write: "if (ULLONG_MAX - ctx->count > ucnt)" the write proceeds, else it waits.
export const canWrite = (c: Pick<EventfdContext, "count">, value: bigint): boolean => ULLONG_MAX - c.count > value;

export const eventfdMachine = setup({
  types: { context: {} as EventfdContext, events: {} as EventfdEvent, input: {} as EventfdInput },
  guards: {
    hasCount: ({ context }) => canRead(context),
    fits: ({ context, event }) => event.type === "WRITE" && canWrite(context, event.value),
    isEmpty: ({ context }) => context.count === 0n,
    isSaturated: ({ context }) => context.count === EFD_MAX,
    // The state a successful READ or WRITE leaves, decided before it moves the counter, so
    // that the event takes one transition straight to it rather than a second, eventless
    // one through "sorting" (each microstep costs several µs of xstate on a hot call).
    readEmpties: ({ context }) => !context.semaphore || context.count === 1n,
    writeEmpty: ({ context, event }) => event.type === "WRITE" && context.count + event.value === 0n,
    writeSaturates: ({ context, event }) => event.type === "WRITE" && context.count + event.value === EFD_MAX,
  },
  actions: {
    // eventfd_ctx_do_read: "*cnt = ((ctx->flags & EFD_SEMAPHORE) && ctx->count) ? 1 : ctx->count;
    // ctx->count -= *cnt;"
    take: assign(({ context }) => {
      const value = context.semaphore ? 1n : context.count;
      return { count: context.count - value, last: { ok: true, value } as EventfdOutcome };
    }),
    add: assign(({ context, event }) => {
      const value = event.type === "WRITE" ? event.value : 0n;
      return { count: context.count + value, last: { ok: true, value } as EventfdOutcome };
    }),
    refuse: assign({ last: () => AGAIN }),
  },
}).createMachine({
  id: "eventfd",
  context: ({ input }) => ({ ...input, last: AGAIN }),
  initial: "open",
  states: {
    open: {
      initial: "sorting",
      on: {
        READ: [
          { guard: and(["hasCount", "readEmpties"]), target: ".empty", actions: "take" },
          { guard: "hasCount", target: ".readable", actions: "take" },
          { actions: "refuse" },
        ],
        WRITE: [
          { guard: and(["fits", "writeEmpty"]), target: ".empty", actions: "add" },
          { guard: and(["fits", "writeSaturates"]), target: ".saturated", actions: "add" },
          { guard: "fits", target: ".readable", actions: "add" },
          { actions: "refuse" },
        ],
        FREE: "freed",
      },
      states: {
        // Only the initial counter is sorted this way; READ and WRITE go to their state directly.
        sorting: {
          always: [{ guard: "isEmpty", target: "empty" }, { guard: "isSaturated", target: "saturated" }, { target: "readable" }],
        },
        empty: {},
        readable: {},
        saturated: {},
      },
    },
    freed: { type: "final" },
  },
});

export type EventfdState = "empty" | "readable" | "saturated" | "freed";
