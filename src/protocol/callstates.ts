/**
 * The states of one guest call on the client's side (spec/client.md): the names the
 * TypeScript client's machine (src/client/call.ts) gives its states, and, generated from this
 * list, the C client's `enum blinkd_call_state` (blinkd_protocol.h) that clients/c/blinkd.c's
 * blinkd_conn_call walks through.
 */
export const CALL_STATES = {
  idle: "made, not yet sent",
  inCall: "the request is sent; waiting for its one reply",
  interrupting: "a handled signal (or the caller) interrupted it: the interrupt [2, seq] is sent; waiting for the reply all the same",
  answered: "the reply came with the call's real result (a value or an errno): the call is over",
  erestartsys: "the reply was -512 (ERESTARTSYS): the call was interrupted before it completed, nothing consumed",
  restart: "the interrupting signal's handler has SA_RESTART: the same call is sent again with a new seq",
  eintr: "no SA_RESTART (or the caller gave up): the call fails with EINTR",
  gone: "the connection closed before the reply: the daemon is gone",
} as const;

export type CallStateName = keyof typeof CALL_STATES;
