/**
 * Linux x86-64 constants for daemon descriptors, shared by the daemon and its clients:
 * include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h, include/linux/eventfd.h,
 * include/uapi/asm-generic/poll.h.
 */
export const O_RDWR = 0o2;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECT = 0o40000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const FD_CLOEXEC = 1;

export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;

export const EFD_SEMAPHORE = 1;
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;

export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
