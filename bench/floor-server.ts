/**
 * The floor server (issue 18): a bare Node.js server on a UNIX socket with blinkd's framing
 * (a 4-byte big-endian length, then the body) that answers what the floor preload
 * (bench/native/floor.c) awaits and nothing else: every request gets a reply of the size the
 * request names, a post gets none. Five things it keeps, because without them the traffic
 * would not have the preload's shape: the host pids of its clients (from their hello), a
 * child's posted exit_group answers its host parent's parked wait4 with SIGCHLD (17: the
 * signal in the reply, as the daemon's wait4_sigchld), or else rings the parent with SIGCHLD
 * (process.kill, as the daemon's doorbell) and counts one exit and one doorbell for it; a wait4
 * is answered (1) once an exit is counted for the caller (parked until then, at most 2 s; at once
 * with WNOHANG or when no child it forked is still running: the fork request counts them); a
 * sig_dequeue answers SIGCHLD while a doorbell is untaken, else 0. No decoding beyond fixed
 * offsets.
 *
 * Frame (floor.c): len u32 BE | kind u8 (0 request, 4 post) | seq u32 | op u8 | hostpid i32 |
 * arg i32 | reply size u16 | padding. Reply: len | 1 | seq | result i32 | padding.
 *
 * usage: node dist/bench/floor-server.js SOCKET_PATH   (prints "listening" when ready;
 * SIGUSR2 prints "cpu USER_US SYSTEM_US", its own process.cpuUsage())
 */
import type * as net from "node:net";
import { serveUnix } from "./lib/unix-server.js";

const OP = { echo: 0, hello: 1, wait: 2, deq: 3, exit: 4, fork: 5 } as const;
// FLOOR_TRACE=1: one line per frame on stderr (to count what a workload sends).
const trace = process.env.FLOOR_TRACE === "1";

interface Waiter {
  sock: net.Socket;
  seq: number;
  size: number;
  timer: NodeJS.Timeout;
}
const clients = new Map<number, number>(); // host pid → open connections
const kids = new Map<number, number>(); // children forked and not yet ended, per host parent
const exits = new Map<number, number>();
const bells = new Map<number, number>();
const waiters = new Map<number, Waiter>();

function reply(seq: number, result: number, size: number): Buffer {
  const b = Buffer.alloc(Math.max(13, size));
  b.writeUInt32BE(b.length - 4, 0);
  b[4] = 1;
  b.writeUInt32LE(seq, 5);
  b.writeInt32LE(result, 9);
  return b;
}

const take = (m: Map<number, number>, pid: number): boolean => {
  const n = m.get(pid) ?? 0;
  if (n > 0) m.set(pid, n - 1);
  return n > 0;
};

serveUnix("floor-server", (sock: net.Socket) => {
  let pending: Buffer | undefined;
  let me = 0;
  sock.on("data", (chunk: Buffer) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= 4) {
      const n = buf.readUInt32BE(off);
      if (buf.length - off - 4 < n) break;
      const kind = buf[off + 4];
      const seq = buf.readUInt32LE(off + 5);
      const op = buf[off + 9];
      const pid = buf.readInt32LE(off + 10);
      const arg = buf.readInt32LE(off + 14);
      const size = buf.readUInt16LE(off + 18);
      off += 4 + n;
      if (trace) process.stderr.write(`floor: pid ${pid} ${kind === 0 ? "request" : "post"} op ${op} arg ${arg} seq ${seq} size ${4 + n}\n`);
      if (op === OP.hello && !me) {
        me = pid;
        clients.set(pid, (clients.get(pid) ?? 0) + 1);
      }
      if (op === OP.fork) kids.set(pid, (kids.get(pid) ?? 0) + 1);
      if (op === OP.exit && clients.has(arg)) {
        take(kids, arg);
        // The parent's parked wait4 is answered with the SIGCHLD; else its host process is rung.
        const w = waiters.get(arg);
        if (w) {
          waiters.delete(arg);
          clearTimeout(w.timer);
          if (!w.sock.destroyed) w.sock.write(reply(w.seq, 17, w.size));
        } else {
          exits.set(arg, (exits.get(arg) ?? 0) + 1);
          bells.set(arg, (bells.get(arg) ?? 0) + 1);
          try {
            process.kill(arg, "SIGCHLD");
          } catch {
            /* gone */
          }
        }
      }
      if (kind !== 0) continue; // a post gets no reply
      if (op === OP.wait) {
        if (take(exits, pid)) out.push(reply(seq, 1, size));
        else if (arg === 1 || !kids.get(pid) || waiters.has(pid)) out.push(reply(seq, 0, size));
        else {
          const w: Waiter = { sock, seq, size, timer: setTimeout(() => {
            if (waiters.get(pid) !== w) return;
            waiters.delete(pid);
            if (!sock.destroyed) sock.write(reply(seq, 0, size));
          }, 2000) };
          waiters.set(pid, w);
        }
      } else if (op === OP.deq) out.push(reply(seq, take(bells, pid) ? 17 : 0, size));
      else out.push(reply(seq, 0, size));
    }
    // Every reply of this chunk goes back in one write, as the daemon's cork does.
    if (out.length) sock.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    pending = off === buf.length ? undefined : Buffer.from(buf.subarray(off));
  });
  sock.on("close", () => {
    if (!me) return;
    const n = (clients.get(me) ?? 1) - 1;
    if (n > 0) clients.set(me, n);
    else {
      clients.delete(me);
      exits.delete(me);
      kids.delete(me);
      bells.delete(me);
      const w = waiters.get(me);
      if (w) clearTimeout(w.timer), waiters.delete(me);
    }
  });
  sock.on("error", () => {});
});
process.on("SIGUSR2", () => {
  const c = process.cpuUsage();
  process.stdout.write(`cpu ${c.user} ${c.system}\n`);
});
