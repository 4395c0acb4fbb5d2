/**
 * The floor of a server-held eventfd: a bare Node.js server on a UNIX socket with blinkd's
 * framing and codec that keeps eventfd counters and nothing else — no hello, no processes,
 * no descriptor table, no actors, no parked-call bookkeeping beyond one waiting read per
 * counter. eventfd_write (122) [fd, value, 8] adds to counter fd, answers the writer and, if
 * a read waits on fd, answers that read with the whole count (eventfd(2) without
 * EFD_SEMAPHORE); eventfd_read (121) [fd, 8] takes the count or waits. The eventfd benchmark
 * runs the same ping-pong frames against it (loadgen's relayeventfd): what any server-held
 * counter reached over a socket costs, whatever the server does.
 *
 * usage: node dist/bench/relay-server.js SOCKET_PATH   (prints "listening" when ready)
 */
import type * as net from "node:net";
import { decode, encodeFrame } from "../src/protocol/codec.js";
import { FrameReader } from "../src/protocol/frame.js";
import { serveUnix } from "./lib/unix-server.js";

const NR_EVENTFD_READ = 121;
const NR_EVENTFD_WRITE = 122;
const EAGAIN = 11;
const EINVAL = 22;

const counts = new Map<number, bigint>();
/** The read waiting on each counter: its socket and seq. */
const waiting = new Map<number, { sock: net.Socket; seq: number }>();

serveUnix("relay-server", (sock: net.Socket) => {
  const reader = new FrameReader();
  sock.on("data", (chunk: Buffer) => {
    reader.push(chunk, (body) => {
      const m = decode(body) as [number, number, number, ...unknown[]];
      const [, seq, nr] = m;
      const fd = Number(m[3]);
      if (nr === NR_EVENTFD_WRITE) {
        const v = BigInt(m[4] as number | bigint) + (counts.get(fd) ?? 0n);
        const w = waiting.get(fd);
        if (w) {
          waiting.delete(fd);
          counts.set(fd, 0n);
          w.sock.write(encodeFrame([1, w.seq, 8, v]));
        } else counts.set(fd, v);
        sock.write(encodeFrame([1, seq, 8]));
      } else if (nr === NR_EVENTFD_READ) {
        const v = counts.get(fd) ?? 0n;
        if (v > 0n) {
          counts.set(fd, 0n);
          sock.write(encodeFrame([1, seq, 8, v]));
        } else if (waiting.has(fd)) sock.write(encodeFrame([1, seq, -EAGAIN]));
        else waiting.set(fd, { sock, seq });
      } else sock.write(encodeFrame([1, seq, -EINVAL]));
    });
  });
  sock.on("error", () => {});
});
