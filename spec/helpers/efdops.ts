/**
 * The daemon side of spec/native/efd_ops.c: the same operation lines run through a guest
 * agent, printing what the C program prints on real Linux.
 */
import type { Agent, Reply } from "./agent.js";

const POLLIN_POLLOUT = 1 | 4;
const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;

export async function runOps(a: Agent, lines: readonly string[]): Promise<string[]> {
  const fds: number[] = [];
  const out: string[] = [];
  const n = (s: string): number => (s.startsWith("$") ? fds[Number(s.slice(1))]! : Number(s));
  for (const line of lines) {
    const [op, x = "", y = "", z = ""] = line.trim().split(/\s+/);
    fds.push(-1);
    const k = fds.length - 1;
    let r: Reply;
    let kind: "fd" | "newfd" | "read" | "plain" | "poll" | "ready" = "plain";
    switch (op) {
      case "efd":
        r = await a.call("eventfd2", { initval: n(x), flags: n(y) });
        kind = "fd";
        break;
      case "read":
        r = await a.call("eventfd_read", { fd: n(x), size: n(y) });
        kind = "read";
        break;
      case "write":
        r = await a.call("eventfd_write", { fd: n(x), value: BigInt(y), size: n(z) });
        break;
      case "close":
        r = await a.call("close", { fd: n(x) });
        break;
      case "dup":
        r = await a.call("dup", { fd: n(x) });
        kind = "fd";
        break;
      case "dup2":
        r = await a.call("dup2", { oldfd: n(x), newfd: n(y) });
        kind = "newfd";
        break;
      case "dup3":
        r = await a.call("dup3", { oldfd: n(x), newfd: n(y), flags: n(z) });
        kind = "newfd";
        break;
      case "fcntl":
        r = await a.call("fcntl", { fd: n(x), cmd: n(y), arg: n(z) });
        if (n(y) === F_DUPFD || n(y) === F_DUPFD_CLOEXEC) kind = "fd";
        break;
      case "ready":
        r = await a.call("poll", { fds: [n(x)], events: [POLLIN_POLLOUT], timeout: 0 });
        kind = "ready";
        break;
      case "poll":
        r = await a.call("poll", { fds: [n(x)], events: [n(y)], timeout: n(z) });
        kind = "poll";
        break;
      case "fdinfo": {
        // The data procfs renders (src/procfs/fdinfo.ts), printed as fs/proc/fd.c seq_show and
        // eventfd_show_fdinfo print those lines: flags in octal with O_CLOEXEC folded in,
        // eventfd-count as %16llx.
        r = await a.call("eventfd_info", { fd: n(x) });
        if (r.ok) {
          const o = r.out as { count: bigint; flags: number; semaphore: boolean; cloexec: boolean };
          const flags = o.flags | (o.cloexec ? 0o2000000 : 0);
          out.push(`pos:\t0|flags:\t0${flags.toString(8)}|eventfd-count: ${BigInt(o.count).toString(16).padStart(16, " ")}|eventfd-semaphore: ${o.semaphore ? 1 : 0}`);
          continue;
        }
        break;
      }
      default:
        throw new Error(`unknown op ${op}`);
    }
    if (!r.ok) {
      out.push(r.code!);
      continue;
    }
    const res = r.result!;
    const revents = (r.out?.revents as number[] | undefined)?.[0] ?? 0;
    if (kind === "fd") {
      fds[k] = res;
      out.push("fd");
    } else if (kind === "newfd") {
      fds[k] = res;
      out.push(res === n(y) ? "newfd" : "other");
    } else if (kind === "read") out.push(`${res} ${BigInt(r.out!.value as bigint)}`);
    else if (kind === "ready") out.push(`${revents}`);
    else if (kind === "poll") out.push(`${res} ${revents}`);
    else out.push(`${res}`);
  }
  return out;
}
