/** The TypeScript client's eventfd API (src/client/eventfd.ts), with this test process as a guest and a forked agent as its peer. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { serve, type Served } from "./helpers/daemon.js";
import { agent, type Agent } from "./helpers/agent.js";
import { parked } from "./helpers/efd.js";
import { Guest } from "../src/client/guest.js";
import { SyscallError } from "../src/client/errors.js";
import { EFD_NONBLOCK, EFD_SEMAPHORE, EventFd, POLLIN, POLLOUT, dup2, poll } from "../src/client/eventfd.js";
import { until } from "./helpers/bounded.js";

let d: Served;
let g: Guest;
let peer: Agent | undefined;

beforeAll(async () => {
  d = await serve();
  g = await Guest.connect({ socket: d.socket, env: {} });
});
afterAll(async () => {
  peer?.proc.kill("SIGKILL");
  g.close();
  await d.stop();
});

it("EventFd: create, write, read, semaphore, non-blocking, dup, dup2, ready, poll, info and an aborted read", async () => {
  const e = await EventFd.create(g, 2, EFD_SEMAPHORE);
  expect(await e.read()).toBe(1n);
  await e.write(0xfffffffffffffffdn);
  expect((await e.info()).count).toBe(0xfffffffffffffffen);
  expect(await e.ready()).toBe(POLLIN);
  await e.setNonblocking(true);
  await expect(e.write(1n)).rejects.toMatchObject({ code: "EAGAIN" });
  const d2 = await e.dup();
  expect((await d2.info()).flags & EFD_NONBLOCK).toBe(EFD_NONBLOCK);
  await d2.setCloexec(true);
  expect(await d2.cloexec()).toBe(true);
  expect(await e.cloexec()).toBe(false);
  expect(await dup2(g, e.fd, 9)).toBe(9);
  await e.close();
  await d2.close();
  const nine = new EventFd(g, 9);
  expect((await poll(g, [{ fd: 9, events: POLLIN | POLLOUT }], 0)).revents).toEqual([POLLIN]);

  const f = await EventFd.create(g);
  const ac = new AbortController();
  const r = f.read({ signal: ac.signal });
  await new Promise((res) => setImmediate(res));
  await until("the read parked on the eventfd (one waiter)", async () => (await f.info()).waiters === 1);
  ac.abort();
  const err = await r.catch((x: unknown) => x);
  expect(err).toBeInstanceOf(SyscallError);
  expect((err as SyscallError).code).toBe("EINTR");

  // A forked peer (sharing descriptors) wakes a blocked read.
  const fork = await g.forkReserve();
  peer = await agent(d.socket, fork.token);
  const blocked = f.read();
  await parked(peer, f.fd, 1);
  await peer.ok("eventfd_write", { fd: f.fd, value: 42n, size: 8 });
  expect(await blocked).toBe(42n);
  await nine.close();
});
