import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serve, type Served } from "./helpers/daemon.js";
import { agent, agentTracker, type Agent } from "./helpers/agent.js";

let d: Served;
const { track, killAll } = agentTracker();

beforeEach(async () => {
  d = await serve();
});
afterEach(async () => {
  killAll();
  await d.stop();
});

describe("process lifecycle through the socket", () => {
  it("the first process is PID 1 with parent 0; a forked child claims the reserved pid", async () => {
    const init = await track(agent(d.socket));
    expect(init.pid).toBe(1);
    expect((await init.ok("getppid")).result).toBe(0);
    const child = await track(init.fork());
    expect(child.pid).toBe(2);
    expect((await child.ok("getppid")).result).toBe(1);
    expect((await child.ok("gettid")).result).toBe(2);
  });

  it("exit_group's status reaches the parent's wait4; then ECHILD", async () => {
    const init = await track(agent(d.socket));
    const child = await track(init.fork());
    await child.exit(3);
    const r = await init.ok("wait4", { pid: -1, options: 0 });
    expect(r.result).toBe(2);
    expect(r.out!.wstatus).toBe(3 << 8);
    expect((await init.call("wait4", { pid: -1, options: 0 })).code).toBe("ECHILD");
  });

  it("a guest host process killed with SIGKILL is seen by wait4 as killed by signal 9", async () => {
    const init = await track(agent(d.socket));
    const child = await track(init.fork());
    const w = init.call("wait4", { pid: child.pid, options: 0 });
    await child.kill("SIGKILL");
    const r = await w;
    expect(r.result).toBe(child.pid);
    expect(r.out!.wstatus).toBe(9);
  });
});
