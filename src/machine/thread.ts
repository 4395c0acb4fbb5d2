/**
 * One emulated thread: its own connection once claimed.
 *
 *   embryo ──CLAIM──▶ running ──EXIT──▶ exited
 *     └────ABORT / EXIT──────────────────┘
 */
import { setup } from "xstate";

export interface ThreadInput {
  tid: number;
  pid: number;
}

export type ThreadEvent = { type: "CLAIM" } | { type: "EXIT" } | { type: "ABORT" };

export const threadMachine = setup({
  types: { context: {} as ThreadInput, events: {} as ThreadEvent, input: {} as ThreadInput },
}).createMachine({
  id: "thread",
  context: ({ input }) => ({ ...input }),
  initial: "embryo",
  states: {
    embryo: { on: { CLAIM: "running", ABORT: "exited", EXIT: "exited" } },
    running: { on: { EXIT: "exited" } },
    exited: { type: "final" },
  },
});
