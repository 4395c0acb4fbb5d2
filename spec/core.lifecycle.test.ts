import { describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";

const ns = namespace({ each: true });
const { track } = ns;

describe("process lifecycle through the socket", () => {
  it("the first process is PID 1 with parent 0; a forked child claims the reserved pid", async () => {
    const { init } = ns;
    expect(init.pid).toBe(1);
    expect((await init.ok("getppid")).result).toBe(0);
    const child = await track(init.fork());
    expect(child.pid).toBe(2);
    expect((await child.ok("getppid")).result).toBe(1);
    expect((await child.ok("gettid")).result).toBe(2);
  });

  it("exit_group's status reaches the parent's wait4; then ECHILD", async () => {
    const { init } = ns;
    const child = await track(init.fork());
    await child.exit(3);
    const r = await init.ok("wait4", { pid: -1, options: 0 });
    expect(r.result).toBe(2);
    expect(r.out!.wstatus).toBe(3 << 8);
    expect((await init.call("wait4", { pid: -1, options: 0 })).code).toBe("ECHILD");
  });

  it("a guest host process killed with SIGKILL is seen by wait4 as killed by signal 9", async () => {
    const { init } = ns;
    const child = await track(init.fork());
    const w = init.call("wait4", { pid: child.pid, options: 0 });
    await child.kill("SIGKILL");
    const r = await w;
    expect(r.result).toBe(child.pid);
    expect(r.out!.wstatus).toBe(9);
  });
});
