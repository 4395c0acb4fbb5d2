/**
 * An errno is data (src/protocol/errno.ts): one without a detail is one value per code, so a
 * call that fails the same way every time (a shell's wait4 ECHILD after each reaping) builds
 * no Error object; one with a detail is its own value.
 */
import { describe, expect, it } from "vitest";
import { E, Errno, errno } from "../../src/protocol/errno.js";

describe("errno values", () => {
  it("a detail-less errno is one value per code, made once", () => {
    const a = errno(E.ECHILD);
    expect(a).toBeInstanceOf(Errno);
    expect(errno(E.ECHILD)).toBe(a);
    expect(errno(E.EAGAIN)).toBe(errno(E.EAGAIN));
    expect(errno(E.EAGAIN)).not.toBe(a);
    expect([a.code, a.detail, a.message]).toEqual([E.ECHILD, undefined, "ECHILD"]);
  });

  it("an errno with a detail is its own value, and leaves the shared one as it was", () => {
    const d = errno(E.ECHILD, "no child 5");
    expect(d).not.toBe(errno(E.ECHILD));
    expect(errno(E.ECHILD, "no child 5")).not.toBe(d);
    expect(d.message).toBe("ECHILD: no child 5");
    expect(errno(E.ECHILD).detail).toBeUndefined();
    expect(errno(E.ECHILD).message).toBe("ECHILD");
  });

  it("a code past Linux's MAX_ERRNO (4095) is made each time, not kept", () => {
    expect(errno(4096)).not.toBe(errno(4096));
    expect(errno(4096).code).toBe(4096);
  });
});
