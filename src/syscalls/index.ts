/**
 * The dispatch table, by call number: every family's handlers. The types make a family's
 * handler object name every call of its schema family, so a call cannot be forgotten.
 */
import { table } from "../protocol/index.js";
import { sessionCalls } from "./session.js";
import { processCalls } from "./process.js";
import { waitCalls } from "./wait.js";
import { controlCalls } from "./control.js";
import { signalCalls } from "./signal.js";
import { groupCalls } from "./group.js";
import { eventfdCalls } from "./eventfd.js";
import { fdCalls } from "./fd.js";
import { procfsCalls } from "./procfs.js";
import { ptraceCalls } from "./ptrace.js";
import type { AnyHandler } from "./types.js";

const all: Record<string, AnyHandler> = { ...sessionCalls, ...processCalls, ...waitCalls, ...signalCalls, ...groupCalls, ...eventfdCalls, ...fdCalls, ...procfsCalls, ...ptraceCalls, ...controlCalls } as unknown as Record<string, AnyHandler>;

export const dispatch: ReadonlyMap<number, AnyHandler> = (() => {
  const m = new Map<number, AnyHandler>();
  for (const [nr, call] of table.byNr) {
    const h = all[call.name];
    if (!h) throw new Error(`syscalls: no handler for ${call.name}`);
    m.set(nr, h);
  }
  return m;
})();
