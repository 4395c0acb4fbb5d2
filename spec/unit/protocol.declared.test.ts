/**
 * What src/protocol declares once for the daemon, the clients and the C header: the events'
 * wire layout, Linux's wait status word, and the generated C constants (libc's own values are
 * checked against the schema when dist/c is compiled: the _Static_asserts in blinkd_calls.c).
 */
import { describe, expect, it } from "vitest";
import { EV, eventMessage, parseEvent } from "../../src/protocol/events.js";
import { CONTINUED, describeStatus, exited, signaled, stopped } from "../../src/protocol/linux/wait.js";
import { header, source } from "../../src/protocol/cheader.js";

describe("events", () => {
  it("SIGNAL's fields travel in the schema's order and come back by name", () => {
    const info = { signo: 17, pid: 3, code: 1, uid: 1000, status: 7 };
    const m = eventMessage("SIGNAL", info);
    expect(m).toEqual([EV.SIGNAL, 17, 3, 1, 1000, 7]);
    expect(parseEvent(m[0], m.slice(1))).toEqual({ name: "SIGNAL", fields: info });
  });
  it("a number the schema does not know is ignored (§4.4)", () => {
    expect(parseEvent(99, [1, 2])).toBeUndefined();
  });
});

describe("the wait status word", () => {
  it("reads every kind back as the traces print it; continued (0xffff) is not a kill", () => {
    expect(describeStatus(exited(7))).toBe("exited(7)");
    expect(describeStatus(signaled(9))).toBe("killed(9)");
    expect(describeStatus(signaled(11, true))).toBe("killed(11,core)");
    expect(describeStatus(stopped(19))).toBe("stopped(19)");
    expect(describeStatus(CONTINUED)).toBe("continued");
  });
});

describe("the C header", () => {
  it("carries the protocol's codes, the events' layout and the call states", () => {
    const h = header();
    for (const line of ["#define BLINKD_SIGACTION_HANDLER 2", "#define BLINKD_DELIVERY_HOST 1", "#define BLINKD_EV_SIGNAL 1", "#define BLINKD_EV_SIGNAL_STATUS 6", "BLINKD_CALL_ERESTARTSYS,"])
      expect(h).toContain(line);
  });
  it("checks Linux's values against libc", () => {
    expect(source()).toContain('_Static_assert((uint32_t)(SIGCHLD) == 17u, "SIGCHLD is 17 in the schema");');
    expect(source()).toContain('_Static_assert((uint32_t)(__WCLONE) == 2147483648u');
  });
});
