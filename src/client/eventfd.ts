/**
 * eventfd and daemon descriptors for TypeScript guests. The descriptor numbers are the
 * daemon's (per process, from 0), not host descriptors; see spec/eventfd.md.
 *
 *   const e = await EventFd.create(guest, 0, EFD_SEMAPHORE);
 *   await e.write(3n);
 *   const v = await e.read();          // 1n; blocks while the counter is 0
 *   await e.read({ signal });          // an aborted signal interrupts it: SyscallError EINTR
 */
import type { Guest } from "./guest.js";
import { F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK } from "../protocol/fdconst.js";

export * from "../protocol/fdconst.js";

export interface CallOpts {
  readonly signal?: AbortSignal;
}

export interface EventfdInfo {
  /** eventfd-count: the exact counter. */
  readonly count: bigint;
  /** The open file's flags (F_GETFL): O_RDWR, O_NONBLOCK, … */
  readonly flags: number;
  readonly semaphore: boolean;
  readonly id: number;
  readonly cloexec: boolean;
  /** Calls parked on the eventfd now (readers, writers, pollers). */
  readonly waiters: number;
}

export interface PollFd {
  readonly fd: number;
  readonly events: number;
}

/** One descriptor of an eventfd. */
export class EventFd {
  constructor(
    readonly guest: Guest,
    readonly fd: number,
  ) {}

  /** eventfd2(initval, flags): EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC. */
  static async create(guest: Guest, initval = 0, flags = 0): Promise<EventFd> {
    return new EventFd(guest, (await guest.call("eventfd2", { initval, flags })).result);
  }

  /** read(2) of 8 bytes: the counter (or 1 in semaphore mode). `size` < 8 is EINVAL, as in Linux. */
  async read(opts: CallOpts & { size?: number } = {}): Promise<bigint> {
    return (await this.guest.call("eventfd_read", { fd: this.fd, size: opts.size ?? 8 }, opts)).out.value;
  }

  /** write(2) of 8 bytes holding `value`. */
  async write(value: bigint | number, opts: CallOpts & { size?: number } = {}): Promise<void> {
    await this.guest.call("eventfd_write", { fd: this.fd, value: BigInt(value), size: opts.size ?? 8 }, opts);
  }

  /** The host FIFO to hand to epoll (EPOLLIN follows the eventfd's readability; never read it). */
  async hostPath(): Promise<string> {
    return (await this.guest.call("eventfd_host", { fd: this.fd })).out.path;
  }

  async info(): Promise<EventfdInfo> {
    return (await this.guest.call("eventfd_info", { fd: this.fd })).out;
  }

  /** POLLIN | POLLOUT as they are now; never blocks. */
  async ready(): Promise<number> {
    return ready(this.guest, this.fd);
  }

  async setNonblocking(on: boolean): Promise<void> {
    const fl = await fcntl(this.guest, this.fd, F_GETFL, 0);
    await fcntl(this.guest, this.fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
  }

  async setCloexec(on: boolean): Promise<void> {
    await fcntl(this.guest, this.fd, F_SETFD, on ? FD_CLOEXEC : 0);
  }

  async cloexec(): Promise<boolean> {
    return (await fcntl(this.guest, this.fd, F_GETFD, 0)) === FD_CLOEXEC;
  }

  async dup(): Promise<EventFd> {
    return new EventFd(this.guest, await dup(this.guest, this.fd));
  }

  close(): Promise<void> {
    return close(this.guest, this.fd);
  }
}

export async function close(g: Guest, fd: number): Promise<void> {
  await g.call("close", { fd });
}

export async function dup(g: Guest, fd: number): Promise<number> {
  return (await g.call("dup", { fd })).result;
}

export async function dup2(g: Guest, oldfd: number, newfd: number): Promise<number> {
  return (await g.call("dup2", { oldfd, newfd })).result;
}

export async function dup3(g: Guest, oldfd: number, newfd: number, flags: number): Promise<number> {
  return (await g.call("dup3", { oldfd, newfd, flags })).result;
}

export async function fcntl(g: Guest, fd: number, cmd: number, arg = 0): Promise<number> {
  return (await g.call("fcntl", { fd, cmd, arg })).result;
}

export async function ready(g: Guest, fd: number): Promise<number> {
  return (await g.call("ready", { fd })).result;
}

/** poll(2) over daemon descriptors; timeout in ms (-1 forever). Returns revents in order. */
export async function poll(g: Guest, fds: readonly PollFd[], timeout: number, opts: CallOpts = {}): Promise<{ count: number; revents: number[] }> {
  const r = await g.call("poll", { fds: fds.map((p) => p.fd), events: fds.map((p) => p.events), timeout }, opts);
  return { count: r.result, revents: r.out.revents };
}
