/**
 * eventfd steps of scenario files (issue 4, item 6): the daemon's eventfd objects and
 * descriptors on blinkd, real eventfd2(2) descriptors on Linux. Descriptor numbers are
 * the same on both sides: the daemon numbers a process's descriptors from 0, and the C
 * agent keeps 0.. free by moving its own descriptors high (linux-agent.c), so the lowest
 * free number (dup, eventfd2) is the same. Values are exact unsigned 64-bit numbers,
 * sent and printed as decimal words.
 */
import { parseFlags, showFlags } from "../names.js";
import { err, type Reply, type StepDef } from "./common.js";

/** eventfd2(2) flags (include/uapi/linux/eventfd.h): EFD_SEMAPHORE 1, EFD_NONBLOCK = O_NONBLOCK, EFD_CLOEXEC = O_CLOEXEC. */
export const EFD_FLAGS: Record<string, number> = { EFD_SEMAPHORE: 1, EFD_NONBLOCK: 0o4000, EFD_CLOEXEC: 0o2000000 };
const O_FLAGS: Record<string, number> = { O_NONBLOCK: 0o4000, O_CLOEXEC: 0o2000000, O_RDWR: 2 };
const FD_FLAGS: Record<string, number> = { FD_CLOEXEC: 1 };
const POLL: Record<string, number> = { POLLIN: 1, POLLOUT: 4, POLLERR: 8, POLLHUP: 16, POLLNVAL: 32 };
const FCNTL: Record<string, number> = { F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4 };

const plain = (r: Reply): string => (r.result < 0 ? err(r) : String(r.result));
const usage = (u: string): string => `expected ${u}`;

function int(w: string | undefined, what: string): number | string {
  if (w === undefined || !/^-?(0x[0-9a-f]+|\d+)$/i.test(w)) return `${what}: expected a number, got ${JSON.stringify(w)}`;
  return Number(w) | 0;
}

/** A u64 word: decimal or 0x…, kept exact as a decimal string. */
function u64(w: string | undefined, what: string): string {
  if (w === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(w)) return `!${what}: expected an unsigned 64-bit number, got ${JSON.stringify(w)}`;
  const v = BigInt(w);
  if (v > 0xffffffffffffffffn) return `!${what}: more than 64 bits`;
  return v.toString();
}
const hexOrDec = (s: string): string => (BigInt(s) > 0xffffffffn ? `0x${BigInt(s).toString(16)}` : s);

export const EVENTFD_STEPS: Record<string, StepDef> = {
  eventfd2: {
    usage: "eventfd2 INITVAL FLAGS",
    doc: "eventfd2(2): FLAGS EFD_SEMAPHORE|EFD_NONBLOCK|EFD_CLOEXEC or 0 (other bits EINVAL). Prints the descriptor (lowest free, the same number on both sides).",
    parse(args) {
      if (args.length !== 2) return usage(this.usage);
      const init = int(args[0], "INITVAL");
      if (typeof init === "string") return init;
      const flags = parseFlags(args[1]!, EFD_FLAGS);
      if (typeof flags === "string") return flags;
      return { command: () => ["efd_new", init >>> 0, flags], show: () => `eventfd2(${init >>> 0}, ${showFlags(flags, EFD_FLAGS)})`, format: plain };
    },
  },
  efd_read: {
    usage: "efd_read FD [SIZE]",
    doc: "read(2) of SIZE bytes (default 8) from eventfd FD: prints 8 and the value, or the errno (EAGAIN, EINVAL for SIZE < 8). May block: run it with `&` to let the next step go.",
    parse(args) {
      if (args.length < 1 || args.length > 2) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      const size = int(args[1] ?? "8", "SIZE");
      if (typeof size === "string") return size;
      return {
        syscall: 0,
        command: () => ["efd_read", fd, size],
        show: () => `read(${fd}, &v, ${size})`,
        format: (r) => (r.result < 0 ? err(r) : `${r.result}, v = ${hexOrDec(r.words?.[0] ?? "?")}`),
      };
    },
  },
  efd_write: {
    usage: "efd_write FD VALUE [SIZE]",
    doc: "write(2) of the u64 VALUE (decimal or 0x…, up to 0xffffffffffffffff) as SIZE bytes (default 8) to eventfd FD: prints 8 or the errno (EAGAIN at the ceiling 0xfffffffffffffffe, EINVAL for 0xffffffffffffffff or SIZE other than 8). May block: `&`.",
    parse(args) {
      if (args.length < 2 || args.length > 3) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      const v = u64(args[1], "VALUE");
      if (v.startsWith("!")) return v.slice(1);
      const size = int(args[2] ?? "8", "SIZE");
      if (typeof size === "string") return size;
      return { syscall: 1, command: () => ["efd_write", fd, v, size], show: () => `write(${fd}, ${hexOrDec(v)}, ${size})`, format: plain };
    },
  },
  close: {
    usage: "close FD",
    doc: "close(2): EBADF when FD is not open. The eventfd lives while any process holds a descriptor of it.",
    parse(args) {
      if (args.length !== 1) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      return { command: () => ["fd_close", fd], show: () => `close(${fd})`, format: plain };
    },
  },
  dup: {
    usage: "dup FD",
    doc: "dup(2): prints the lowest free descriptor (FD_CLOEXEC off, sharing O_NONBLOCK and the counter).",
    parse(args) {
      if (args.length !== 1) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      return { command: () => ["fd_dup", fd], show: () => `dup(${fd})`, format: plain };
    },
  },
  dup2: {
    usage: "dup2 OLDFD NEWFD",
    doc: "dup2(2): NEWFD refers to OLDFD's file (what it held is closed); OLDFD == NEWFD returns it if open.",
    parse(args) {
      if (args.length !== 2) return usage(this.usage);
      const a = int(args[0], "OLDFD");
      if (typeof a === "string") return a;
      const b = int(args[1], "NEWFD");
      if (typeof b === "string") return b;
      return { command: () => ["fd_dup3", a, b, -1], show: () => `dup2(${a}, ${b})`, format: plain };
    },
  },
  dup3: {
    usage: "dup3 OLDFD NEWFD FLAGS",
    doc: "dup3(2): as dup2 with FLAGS O_CLOEXEC or 0 (others EINVAL); OLDFD == NEWFD EINVAL.",
    parse(args) {
      if (args.length !== 3) return usage(this.usage);
      const a = int(args[0], "OLDFD");
      if (typeof a === "string") return a;
      const b = int(args[1], "NEWFD");
      if (typeof b === "string") return b;
      const f = parseFlags(args[2]!, O_FLAGS);
      if (typeof f === "string") return f;
      return { command: () => ["fd_dup3", a, b, f], show: () => `dup3(${a}, ${b}, ${showFlags(f, O_FLAGS)})`, format: plain };
    },
  },
  fcntl: {
    usage: "fcntl FD F_GETFD|F_GETFL | fcntl FD F_SETFD|F_SETFL ARG",
    doc: "fcntl(2) on a descriptor: F_GETFD/F_SETFD (FD_CLOEXEC), F_GETFL/F_SETFL (O_NONBLOCK; F_GETFL prints the O_ flags).",
    parse(args) {
      if (args.length < 2 || args.length > 3) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      const cmd = FCNTL[args[1]!];
      if (cmd === undefined) return `fcntl: expected F_GETFD, F_SETFD, F_GETFL or F_SETFL, got ${JSON.stringify(args[1])}`;
      const table = cmd <= 2 ? FD_FLAGS : O_FLAGS;
      const arg = parseFlags(args[2] ?? "0", table);
      if (typeof arg === "string") return arg;
      const get = cmd === 1 || cmd === 3;
      if (get !== (args.length === 2)) return usage(this.usage);
      return {
        command: () => ["fd_fcntl", fd, cmd, arg],
        show: () => `fcntl(${fd}, ${args[1]}${get ? "" : `, ${showFlags(arg, table)}`})`,
        format: (r) => (r.result < 0 ? err(r) : get ? showFlags(r.result, table) : String(r.result)),
      };
    },
  },
  poll0: {
    usage: "poll0 FD EVENTS",
    doc: "poll(2) of one descriptor with timeout 0 (never blocks): EVENTS POLLIN|POLLOUT; prints how many are ready and revents.",
    parse(args) {
      if (args.length !== 2) return usage(this.usage);
      const fd = int(args[0], "FD");
      if (typeof fd === "string") return fd;
      const ev = parseFlags(args[1]!, POLL);
      if (typeof ev === "string") return ev;
      return {
        command: () => ["fd_poll0", fd, ev],
        show: () => `poll([{${fd}, ${showFlags(ev, POLL)}}], 1, 0)`,
        format: (r) => (r.result < 0 ? err(r) : `${r.result}, revents ${showFlags(r.extra[0] ?? 0, POLL)}`),
      };
    },
  },
};
