/** A real host epoll, in a native C program, over the FIFO that mirrors a daemon eventfd. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { serve, type Served } from "./helpers/daemon.js";
import { agent, type Agent } from "./helpers/agent.js";
import { buildNative } from "./helpers/native.js";
import { efd } from "./helpers/efd.js";

let d: Served;
let a: Agent;
let prog: string;

beforeAll(async () => {
  prog = buildNative("efd_epoll");
  d = await serve();
  a = await agent(d.socket);
});
afterAll(async () => {
  a.proc.kill("SIGKILL");
  await d.stop();
});

const EPOLLIN = 0x1;
const EPOLLHUP = 0x10;

it("epoll_wait on the host FIFO follows the eventfd: readable while the counter is non-zero, EPOLLHUP once it is freed", async () => {
  const fd = await efd(a);
  const fifo = (await a.ok("eventfd_host", { fd })).out!.path as string;
  expect(fs.statSync(fifo).mode & 0o777).toBe(0o600);
  expect((await a.ok("eventfd_host", { fd })).out!.path).toBe(fifo);
  const c = spawn(prog, [fifo], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  const wait = async (ms: number) => {
    c.stdin!.write(`wait ${ms}\n`);
    return next();
  };
  try {
    expect(await next()).toBe("ready");
    expect(await wait(0)).toBe("n=0 ev=0x0");
    await a.ok("eventfd_write", { fd, value: 1n, size: 8 });
    expect(await wait(-1)).toBe(`n=1 ev=0x${EPOLLIN.toString(16)}`);
    // Level-triggered: still readable until the counter is read.
    expect(await wait(0)).toBe(`n=1 ev=0x${EPOLLIN.toString(16)}`);
    await a.ok("eventfd_write", { fd, value: 4n, size: 8 });
    await a.ok("eventfd_read", { fd, size: 8 });
    expect(await wait(0)).toBe("n=0 ev=0x0");
    // A dup keeps it alive; the last close frees it and removes the FIFO.
    const fd2 = (await a.ok("dup", { fd })).result;
    await a.ok("eventfd_write", { fd: fd2, value: 2n, size: 8 });
    await a.ok("close", { fd });
    expect(await wait(-1)).toBe(`n=1 ev=0x${EPOLLIN.toString(16)}`);
    await a.ok("close", { fd: fd2 });
    expect(fs.existsSync(fifo)).toBe(false);
    expect(await wait(0)).toBe(`n=1 ev=0x${EPOLLHUP.toString(16)}`);
  } finally {
    c.stdin!.end("quit\n");
  }
});
