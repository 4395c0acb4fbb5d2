/**
 * eventfd through the socket, with separate guest processes: fs/eventfd.c's rules, blocking
 * and wake-up order, interrupts, and readiness. One daemon for the file; init lives throughout.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { type Agent } from "./helpers/agent.js";
import { namespace } from "./helpers/namespace.js";
import { MAX, efd, info, parked, value } from "./helpers/efd.js";
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, POLLIN, POLLNVAL, POLLOUT } from "../src/protocol/fdconst.js";

const ns = namespace();
const { track } = ns;

/** A fresh process for a test: a child of init, so that nothing a test does ends the namespace. */
const proc = (): Promise<Agent> => track(ns.init.fork());
const fork = (a: Agent): Promise<Agent> => track(a.fork());

describe("eventfd2, read and write", () => {
  it("flags: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC accepted, any other bit EINVAL; descriptors lowest-first from 0", async () => {
    const a = await proc();
    expect((await a.call("eventfd2", { initval: 0, flags: 2 })).code).toBe("EINVAL");
    expect((await a.call("eventfd2", { initval: 0, flags: 0o100 })).code).toBe("EINVAL");
    expect(await efd(a, 0, 0)).toBe(0);
    expect(await efd(a, 5, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)).toBe(1);
    const i = await info(a, 1);
    expect(i).toMatchObject({ count: 5n, semaphore: true, cloexec: true, flags: 0o4002 });
    expect(await info(a, 0)).toMatchObject({ count: 0n, semaphore: false, cloexec: false, flags: 0o2 });
  });

  it("size and value rules: EBADF first, then a read under 8 bytes or a write of other than 8 EINVAL, then 0xffffffffffffffff EINVAL", async () => {
    const a = await proc();
    const fd = await efd(a, 0, EFD_NONBLOCK);
    expect((await a.call("eventfd_read", { fd: 99, size: 4 })).code).toBe("EBADF");
    expect((await a.call("eventfd_read", { fd, size: 7 })).code).toBe("EINVAL");
    expect((await a.call("eventfd_write", { fd, value: 1n, size: 7 })).code).toBe("EINVAL");
    expect((await a.call("eventfd_write", { fd, value: 0xffffffffffffffffn, size: 8 })).code).toBe("EINVAL");
    // Linux >= 6.6 refuses a write of more than 8 bytes; a larger read moves 8.
    expect((await a.call("eventfd_write", { fd, value: 3n, size: 9 })).code).toBe("EINVAL");
    expect((await a.ok("eventfd_write", { fd, value: 3n, size: 8 })).result).toBe(8);
    const r = await a.ok("eventfd_read", { fd, size: 4096 });
    expect(r.result).toBe(8);
    expect(value(r)).toBe(3n);
  });

  it("the counter is exact to 0xfffffffffffffffe; past it a non-blocking write is EAGAIN; a read resets it", async () => {
    const a = await proc();
    const fd = await efd(a, 0, EFD_NONBLOCK);
    await a.ok("eventfd_write", { fd, value: MAX - 1n, size: 8 });
    expect((await info(a, fd)).count).toBe(MAX - 1n);
    await a.ok("eventfd_write", { fd, value: 1n, size: 8 });
    expect((await a.call("eventfd_write", { fd, value: 1n, size: 8 })).code).toBe("EAGAIN");
    // A write of 0 always fits.
    expect((await a.ok("eventfd_write", { fd, value: 0n, size: 8 })).result).toBe(8);
    expect((await a.ok("ready", { fd })).result).toBe(POLLIN);
    expect(value(await a.call("eventfd_read", { fd, size: 8 }))).toBe(MAX);
    expect((await a.call("eventfd_read", { fd, size: 8 })).code).toBe("EAGAIN");
  });

  it("EFD_SEMAPHORE reads 1 and decrements; at 0 a non-blocking read is EAGAIN", async () => {
    const a = await proc();
    const fd = await efd(a, 3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (let i = 0; i < 3; i++) expect(value(await a.call("eventfd_read", { fd, size: 8 }))).toBe(1n);
    expect((await a.call("eventfd_read", { fd, size: 8 })).code).toBe("EAGAIN");
  });
});

describe("blocking across processes", () => {
  it("a blocked read in one process completes with another process's write", async () => {
    const a = await proc();
    const fd = await efd(a);
    const b = await fork(a);
    const r = b.call("eventfd_read", { fd, size: 8 });
    await parked(a, fd, 1);
    await a.ok("eventfd_write", { fd, value: 5n, size: 8 });
    expect(value(await r)).toBe(5n);
    expect((await info(a, fd)).count).toBe(0n);
  });

  it("blocked semaphore readers are served in arrival order, one unit each; the rest keep waiting", async () => {
    const a = await proc();
    const fd = await efd(a, 0, EFD_SEMAPHORE);
    const [b, c] = [await fork(a), await fork(a)];
    // a, b and c block in that order (each handshake sees the previous one parked); the
    // first two units go to a and b, and c, the last to arrive, keeps waiting.
    const ra = a.call("eventfd_read", { fd, size: 8 });
    await parked(b, fd, 1);
    const rb = b.call("eventfd_read", { fd, size: 8 });
    await parked(c, fd, 2);
    let cDone = false;
    const rc = c.call("eventfd_read", { fd, size: 8 }).then((r) => ((cDone = true), r));
    await parked(b, fd, 3);
    const w = await fork(a);
    await w.ok("eventfd_write", { fd, value: 2n, size: 8 });
    expect(value(await ra)).toBe(1n);
    expect(value(await rb)).toBe(1n);
    await parked(w, fd, 1);
    expect(cDone).toBe(false);
    await w.ok("eventfd_write", { fd, value: 1n, size: 8 });
    expect(value(await rc)).toBe(1n);
    expect((await info(w, fd)).count).toBe(0n);
  });

  it("without EFD_SEMAPHORE the first blocked reader takes the whole counter; the next keeps waiting", async () => {
    const a = await proc();
    const fd = await efd(a);
    const b = await fork(a);
    const ra = a.call("eventfd_read", { fd, size: 8 });
    await parked(b, fd, 1);
    const rb = b.call("eventfd_read", { fd, size: 8 });
    await parked(a, fd, 2);
    const w = await fork(a);
    await w.ok("eventfd_write", { fd, value: 7n, size: 8 });
    expect(value(await ra)).toBe(7n);
    await parked(w, fd, 1);
    await w.ok("eventfd_write", { fd, value: 2n, size: 8 });
    expect(value(await rb)).toBe(2n);
  });

  it("a write that would pass 0xfffffffffffffffe blocks until a read makes room", async () => {
    const a = await proc();
    const fd = await efd(a);
    await a.ok("eventfd_write", { fd, value: MAX, size: 8 });
    const b = await fork(a);
    const w = b.call("eventfd_write", { fd, value: 1n, size: 8 });
    await parked(a, fd, 1);
    expect((await a.ok("ready", { fd })).result).toBe(POLLIN);
    expect(value(await a.call("eventfd_read", { fd, size: 8 }))).toBe(MAX);
    expect((await w).result).toBe(8);
    expect((await info(a, fd)).count).toBe(1n);
  });

  it("an interrupted blocked read returns EINTR and consumes nothing; so does an interrupted write", async () => {
    const a = await proc();
    const fd = await efd(a);
    const b = await fork(a);
    const r = b.send("eventfd_read", { fd, size: 8 });
    await parked(a, fd, 1);
    b.abort(r.id);
    expect((await r.reply).code).toBe("EINTR");
    await parked(a, fd, 0);
    await a.ok("eventfd_write", { fd, value: MAX, size: 8 });
    const w = b.send("eventfd_write", { fd, value: 9n, size: 8 });
    await parked(a, fd, 1);
    b.abort(w.id);
    expect((await w.reply).code).toBe("EINTR");
    expect((await info(a, fd)).count).toBe(MAX);
  });
});

describe("descriptors", () => {
  it("dup shares the open file and its O_NONBLOCK; FD_CLOEXEC is per descriptor", async () => {
    const a = await proc();
    const fd = await efd(a, 0, EFD_CLOEXEC);
    const d = (await a.ok("dup", { fd })).result;
    expect(d).toBe(fd + 1);
    expect((await a.ok("fcntl", { fd, cmd: 1, arg: 0 })).result).toBe(1);
    expect((await a.ok("fcntl", { fd: d, cmd: 1, arg: 0 })).result).toBe(0);
    await a.ok("fcntl", { fd: d, cmd: 4, arg: 0o4000 });
    expect((await a.ok("fcntl", { fd, cmd: 3, arg: 0 })).result).toBe(0o4002);
    expect((await a.call("eventfd_read", { fd, size: 8 })).code).toBe("EAGAIN");
    await a.ok("fcntl", { fd, cmd: 4, arg: 0 });
    await a.ok("eventfd_write", { fd: d, value: 4n, size: 8 });
    expect(value(await a.call("eventfd_read", { fd, size: 8 }))).toBe(4n);
  });

  it("fcntl: EBADF before the command; unknown command, O_DIRECT and F_DUPFD past the limit EINVAL; F_DUPFD(_CLOEXEC) from a minimum", async () => {
    const a = await proc();
    const fd = await efd(a);
    expect((await a.call("fcntl", { fd: 77, cmd: 9999, arg: 0 })).code).toBe("EBADF");
    expect((await a.call("fcntl", { fd, cmd: 9999, arg: 0 })).code).toBe("EINVAL");
    expect((await a.call("fcntl", { fd, cmd: 4, arg: 0o40000 })).code).toBe("EINVAL");
    expect((await a.call("fcntl", { fd, cmd: 0, arg: 1024 })).code).toBe("EINVAL");
    expect((await a.call("fcntl", { fd, cmd: 0, arg: -1 })).code).toBe("EINVAL");
    // O_NOATIME needs the inode's owner, root for an eventfd (setfl: inode_owner_or_capable);
    // O_APPEND and O_NOATIME are kept, O_ASYNC is not (eventfd has no ->fasync).
    const root = process.getuid!() === 0;
    if (!root) expect((await a.call("fcntl", { fd, cmd: 4, arg: 0o2000 | 0o1000000 | 0o20000 })).code).toBe("EPERM");
    await a.ok("fcntl", { fd, cmd: 4, arg: 0o2000 | (root ? 0o1000000 : 0) | 0o20000 });
    expect((await a.ok("fcntl", { fd, cmd: 3, arg: 0 })).result).toBe(root ? 0o1002002 : 0o2002);
    expect((await a.ok("fcntl", { fd, cmd: 0, arg: 10 })).result).toBe(10);
    expect((await a.ok("fcntl", { fd, cmd: 1030, arg: 10 })).result).toBe(11);
    expect((await a.ok("fcntl", { fd: 11, cmd: 1, arg: 0 })).result).toBe(1);
    expect((await a.ok("fcntl", { fd: 10, cmd: 1, arg: 0 })).result).toBe(0);
  });

  it("dup2 and dup3: same descriptor, flags, ranges, and replacing an open descriptor", async () => {
    const a = await proc();
    const x = await efd(a, 1);
    const y = await efd(a, 2);
    expect((await a.ok("dup2", { oldfd: x, newfd: x })).result).toBe(x);
    expect((await a.call("dup2", { oldfd: 50, newfd: 50 })).code).toBe("EBADF");
    expect((await a.call("dup3", { oldfd: x, newfd: x, flags: 0 })).code).toBe("EINVAL");
    expect((await a.call("dup3", { oldfd: x, newfd: 5, flags: 1 })).code).toBe("EINVAL");
    expect((await a.call("dup2", { oldfd: x, newfd: 1024 })).code).toBe("EBADF");
    expect((await a.call("dup2", { oldfd: x, newfd: -1 })).code).toBe("EBADF");
    expect((await a.call("dup2", { oldfd: 60, newfd: 5 })).code).toBe("EBADF");
    expect((await a.ok("dup3", { oldfd: x, newfd: 7, flags: 0o2000000 })).result).toBe(7);
    expect((await info(a, 7)).cloexec).toBe(true);
    expect((await a.ok("dup2", { oldfd: x, newfd: y })).result).toBe(y);
    expect((await info(a, y)).count).toBe(1n);
    expect((await a.ok("close", { fd: x })).result).toBe(0);
    expect((await a.call("close", { fd: x })).code).toBe("EBADF");
    expect((await a.ok("dup", { fd: y })).result).toBe(x);
  });

  it("RLIMIT_NOFILE: the 1025th descriptor of a process is EMFILE", async () => {
    const a = await proc();
    const fd = await efd(a);
    for (let i = 1; i < 1024; i++) await a.ok("dup", { fd });
    expect((await a.call("dup", { fd })).code).toBe("EMFILE");
    expect((await a.call("eventfd2", { initval: 0, flags: 0 })).code).toBe("EMFILE");
    await a.ok("close", { fd: 500 });
    expect((await a.ok("eventfd2", { initval: 0, flags: 0 })).result).toBe(500);
  });

  it("fork copies the table, sharing the objects; exec drops only the CLOEXEC descriptors", async () => {
    const a = await proc();
    const keep = await efd(a, 0);
    const drop = await efd(a, 0, EFD_CLOEXEC);
    // A forked agent is a Node.js child: fork then exec, so its CLOEXEC descriptor is gone already.
    const c = await fork(a);
    expect((await c.call("eventfd_info", { fd: drop })).code).toBe("EBADF");
    await c.ok("eventfd_write", { fd: keep, value: 2n, size: 8 });
    expect((await info(a, keep)).count).toBe(2n);
    expect((await c.ok("dup3", { oldfd: keep, newfd: 5, flags: 0o2000000 })).result).toBe(5);
    const plain = (await c.ok("dup", { fd: 5 })).result;
    await c.ok("close", { fd: keep });
    expect((await info(a, keep)).count).toBe(2n);
    await c.ok("execve", { exe: "/bin/x", argv: ["x"] });
    expect((await c.call("eventfd_info", { fd: 5 })).code).toBe("EBADF");
    await c.ok("eventfd_write", { fd: plain, value: 6n, size: 8 });
    expect((await info(a, keep)).count).toBe(8n);
    expect((await info(a, drop)).cloexec).toBe(true);
  });

  it("an object lives while any descriptor or blocked call holds it, and is freed when the last goes, also at death", async () => {
    const a = await proc();
    const fd = await efd(a);
    const fifo = (await a.ok("eventfd_host", { fd })).out!.path as string;
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    const c = await fork(a);
    await a.ok("close", { fd });
    expect(fs.existsSync(fifo)).toBe(true);
    // A blocked read holds the file after its last descriptor closed (fdget in read(2)).
    const c2 = await fork(c);
    const r = c2.send("eventfd_read", { fd, size: 8 });
    await parked(c, fd, 1);
    await c.ok("close", { fd });
    await c2.ok("close", { fd });
    expect(fs.existsSync(fifo)).toBe(true);
    c2.abort(r.id);
    expect((await r.reply).code).toBe("EINTR");
    expect(fs.existsSync(fifo)).toBe(false);

    // The last holder dies: the parent's wait4 returns after its files are released.
    const fd2 = await efd(a);
    const fifo2 = (await a.ok("eventfd_host", { fd: fd2 })).out!.path as string;
    const k = await fork(a);
    await a.ok("close", { fd: fd2 });
    expect(fs.existsSync(fifo2)).toBe(true);
    const w = a.call("wait4", { pid: k.pid, options: 0 });
    await k.kill("SIGKILL");
    expect((await w).result).toBe(k.pid);
    expect(fs.existsSync(fifo2)).toBe(false);
  });
});

describe("readiness", () => {
  it("ready: POLLOUT when empty, POLLIN|POLLOUT when counting, POLLIN only when saturated; EBADF when closed", async () => {
    const a = await proc();
    const fd = await efd(a);
    expect((await a.ok("ready", { fd })).result).toBe(POLLOUT);
    await a.ok("eventfd_write", { fd, value: 1n, size: 8 });
    expect((await a.ok("ready", { fd })).result).toBe(POLLIN | POLLOUT);
    await a.ok("eventfd_write", { fd, value: MAX - 1n, size: 8 });
    expect((await a.ok("ready", { fd })).result).toBe(POLLIN);
    expect((await a.call("ready", { fd: 42 })).code).toBe("EBADF");
  });

  it("poll: immediate, POLLNVAL for a closed descriptor, negative ignored, timeout 0, a timeout, a wake-up from another process, and EINTR", async () => {
    const a = await proc();
    const x = await efd(a);
    const y = await efd(a, 1);
    let r = await a.ok("poll", { fds: [x, y, -1, 33], events: [POLLIN, POLLIN, POLLIN, POLLIN], timeout: -1 });
    expect(r.result).toBe(2);
    expect(r.out!.revents).toEqual([0, POLLIN, 0, POLLNVAL]);
    r = await a.ok("poll", { fds: [x], events: [POLLIN], timeout: 0 });
    expect(r.result).toBe(0);
    r = await a.ok("poll", { fds: [x], events: [POLLIN], timeout: 30 });
    expect(r.result).toBe(0);
    expect((await a.call("poll", { fds: [x], events: [], timeout: 0 })).code).toBe("EINVAL");

    const b = await fork(a);
    const p = b.call("poll", { fds: [y, x], events: [POLLOUT & 0, POLLIN], timeout: -1 });
    await parked(a, x, 1);
    await a.ok("eventfd_write", { fd: x, value: 3n, size: 8 });
    const pr = await p;
    expect(pr.result).toBe(1);
    expect(pr.out!.revents).toEqual([0, POLLIN]);

    const z = await efd(b);
    const q = b.send("poll", { fds: [z], events: [POLLIN], timeout: -1 });
    await parked(b, z, 1);
    b.abort(q.id);
    expect((await q.reply).code).toBe("EINTR");
  });
});
