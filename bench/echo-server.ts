/**
 * The baseline server: a bare Node.js server on a UNIX socket with blinkd's framing (4-byte
 * big-endian length, then the body). It answers every frame with the same frame, its
 * message kind turned from request (0) into reply (1), so a client sees a well-formed reply
 * [1, seq, nr]. No decoding, no dispatch: the floor that blinkd's round trip is measured against.
 *
 * usage: node dist/bench/echo-server.js SOCKET_PATH   (prints "listening" when ready)
 */
import type * as net from "node:net";
import { serveUnix } from "./lib/unix-server.js";

serveUnix("echo-server", (sock: net.Socket) => {
  let pending: Buffer | undefined;
  sock.on("data", (chunk: Buffer) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const n = buf.readUInt32BE(off);
      if (buf.length - off - 4 < n) break;
      // [kind, seq, …] is a fixarray: byte 0 is its header, byte 1 the kind.
      if (n >= 2 && buf[off + 5] === 0) buf[off + 5] = 1;
      off += 4 + n;
    }
    // Every complete frame of this chunk goes back in one write, as the daemon's cork does.
    if (off > 0) sock.write(off === buf.length ? buf : buf.subarray(0, off));
    pending = off === buf.length ? undefined : Buffer.from(buf.subarray(off));
  });
  sock.on("error", () => {});
});
