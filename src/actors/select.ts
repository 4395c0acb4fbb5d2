/**
 * fs/select.c on daemon descriptors: poll(2) (do_sys_poll, do_pollfd) and the readiness
 * query blink's own poll and select make per descriptor, parking until a file's wait queue
 * wakes or the timeout passes.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { POLLERR, POLLHUP, POLLNVAL } from "../protocol/fdconst.js";
import type { Files } from "./files.js";
import { NOT_READY, park, type Attempt, type Parked } from "./park.js";
import type { WaitQueue } from "./waitqueue.js";

/** The readiness of one descriptor (f_op->poll with no wait): its revents, EBADF when not open. */
export function ready(files: Files, pid: number, fd: number): number | Errno {
  const d = files.get(pid, fd);
  return d ? d.file.revents() : errno(E.EBADF, `descriptor ${fd} is not open`);
}

export type PollOk = { result: number; out: { revents: number[] } };

/** do_pollfd for each entry: fd < 0 is skipped, a closed one is POLLNVAL; the mask keeps POLLERR and POLLHUP. */
function pollOnce(files: Files, pid: number, fds: number[], events: number[]): PollOk {
  const revents: number[] = new Array<number>(fds.length).fill(0);
  let n = 0;
  for (let i = 0; i < fds.length; i++) {
    const fd = fds[i]!;
    if (fd < 0) continue;
    const d = files.get(pid, fd);
    const r = d ? d.file.revents() & ((events[i]! & 0xffff) | POLLERR | POLLHUP) : POLLNVAL;
    revents[i] = r;
    if (r) n++;
  }
  return { result: n, out: { revents } };
}

/** do_sys_poll: at once when something is ready or the timeout is 0, else park until one is or the timeout passes. */
export function poll(files: Files, pid: number, fds: number[], events: number[], timeout: number): PollOk | Errno | Parked<PollOk> {
  if (events.length !== fds.length) return errno(E.EINVAL, `poll.events: ${events.length} entries for ${fds.length} descriptors`);
  // do_sys_poll: "if (nfds > rlimit(RLIMIT_NOFILE)) return -EINVAL;"
  if (fds.length > files.limits.maxFdsPerProcess) return errno(E.EINVAL, `poll.fds: ${fds.length} entries, more than RLIMIT_NOFILE ${files.limits.maxFdsPerProcess}`);
  const first = pollOnce(files, pid, fds, events);
  if (first.result > 0 || timeout === 0) return first;
  const attempt = (): Attempt<PollOk> => {
    const r = pollOnce(files, pid, fds, events);
    return r.result > 0 ? r : NOT_READY;
  };
  const queues = (): WaitQueue[] => {
    const qs: WaitQueue[] = [];
    for (const fd of fds) {
      const d = fd >= 0 ? files.get(pid, fd) : undefined;
      if (d && !qs.includes(d.file.wq)) qs.push(d.file.wq);
    }
    return qs;
  };
  const now = Date.now;
  return park(queues, attempt, {
    ...(timeout > 0 ? { deadline: now() + timeout } : {}),
    now,
    onTimeout: () => ({ result: 0, out: { revents: new Array<number>(fds.length).fill(0) } }),
  });
}
