import { family } from "../schema.js";

/**
 * eventfd objects owned by the daemon and the descriptors that refer to them. Descriptor
 * numbers are the daemon's, per process (lowest free first, from 0), not the guest's host
 * descriptors: a client maps its own numbers onto them (spec/eventfd.md).
 */
export const eventfd = family({
  eventfd2: {
    nr: 120,
    args: { initval: "u32", flags: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "eventfd2(2): a new eventfd with counter initval; flags EFD_SEMAPHORE (1), EFD_NONBLOCK (04000), EFD_CLOEXEC (02000000), others EINVAL. eventfd(2) is flags 0. Returns the descriptor; EMFILE, ENFILE at the limits.",
  },
  eventfd_read: {
    nr: 121,
    args: { fd: "i32", size: "u32" },
    out: { value: "u64" },
    blocks: true,
    role: "guest",
    doc: "read(2) of size bytes from an eventfd: size < 8 EINVAL; counter 0 blocks, or EAGAIN when O_NONBLOCK; EFD_SEMAPHORE reads 1 and decrements, else reads the counter and resets it. Returns 8; out.value is the 8 bytes' value.",
  },
  eventfd_write: {
    nr: 122,
    args: { fd: "i32", value: "u64", size: "u32" },
    out: {},
    blocks: true,
    role: "guest",
    doc: "write(2) of size bytes holding value: size other than 8 (Linux >= 6.6) or value 0xffffffffffffffff EINVAL; a write that would take the counter past 0xfffffffffffffffe blocks, or EAGAIN when O_NONBLOCK. Returns 8.",
  },
  eventfd_host: {
    nr: 123,
    args: { fd: "i32" },
    out: { path: "str" },
    blocks: true,
    role: "guest",
    doc: "The host FIFO that mirrors the eventfd's readability, for host epoll: open it O_RDONLY|O_NONBLOCK, watch EPOLLIN, never read it. Made on first use; gone when the eventfd is freed.",
  },
  eventfd_info: {
    nr: 124,
    args: { fd: "i32" },
    out: { count: "u64", flags: "i32", semaphore: "bool", id: "i32", cloexec: "bool", waiters: "i32" },
    blocks: false,
    role: "guest",
    doc: "What /proc/self/fdinfo/FD shows for an eventfd (eventfd-count, flags, eventfd-semaphore, eventfd-id), the descriptor's FD_CLOEXEC and the number of calls parked on the eventfd.",
  },
  close: {
    nr: 130,
    args: { fd: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "close(2) of a daemon descriptor: EBADF when not open. The object is freed when its last descriptor in any process closes.",
  },
  dup: {
    nr: 131,
    args: { fd: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "dup(2): the lowest free descriptor, sharing the open file (and its O_NONBLOCK); FD_CLOEXEC off.",
  },
  dup2: {
    nr: 132,
    args: { oldfd: "i32", newfd: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "dup2(2): newfd refers to oldfd's file, closing what newfd held; oldfd == newfd returns newfd if open; newfd outside 0..RLIMIT_NOFILE-1 EBADF.",
  },
  dup3: {
    nr: 133,
    args: { oldfd: "i32", newfd: "i32", flags: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "dup3(2): as dup2 with flags O_CLOEXEC (02000000) or 0, others EINVAL; oldfd == newfd EINVAL.",
  },
  fcntl: {
    nr: 134,
    args: { fd: "i32", cmd: "i32", arg: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "fcntl(2) on a daemon descriptor: F_DUPFD (0), F_GETFD (1), F_SETFD (2), F_GETFL (3), F_SETFL (4: O_NONBLOCK, O_APPEND, O_NOATIME kept, O_ASYNC ignored, O_DIRECT EINVAL), F_DUPFD_CLOEXEC (1030); other commands EINVAL.",
  },
  ready: {
    nr: 140,
    args: { fd: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "Readiness now, never blocking (for blink's poll and select): POLLIN (1) when readable, POLLOUT (4) when writable; EBADF when not open.",
  },
  poll: {
    nr: 141,
    args: { fds: "i32s", events: "i32s", timeout: "i32" },
    out: { revents: "i32s" },
    blocks: true,
    role: "guest",
    doc: "poll(2) over daemon descriptors: events[i] for fds[i] (fd < 0 ignored, not open POLLNVAL); timeout in ms, -1 forever, 0 never blocks. Returns how many have revents; out.revents.",
  },
});
