/** A bench server's life on a UNIX socket (echo-server.ts, floor-server.ts, relay-server.ts): the path taken, "listening" on stdout once it is, the path removed on SIGTERM or SIGINT. */
import * as fs from "node:fs";
import * as net from "node:net";

export function serveUnix(name: string, onConnection: (sock: net.Socket) => void): void {
  const sockPath = process.argv[2];
  if (!sockPath) {
    process.stderr.write(`usage: ${name} SOCKET_PATH\n`);
    process.exit(2);
  }
  const unlink = (): void => {
    try {
      fs.unlinkSync(sockPath);
    } catch {
      /* not there */
    }
  };
  unlink();
  const server = net.createServer(onConnection);
  server.listen(sockPath, () => process.stdout.write("listening\n"));
  const stop = (): void => {
    server.close();
    unlink();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
