/**
 * `blinkd web [--prefix DIR] [--socket PATH] [--port N]`: a browser view of a running
 * namespace (the process tree, each actor, parked calls, eventfds, signals, the live event
 * stream, and the tree at any earlier event), served on 127.0.0.1 behind a token printed at
 * start. It reads through one control connection only.
 */
import { findDaemon } from "../client/control.js";
import { Feed } from "../web/feed.js";
import { startWeb } from "../web/server.js";
import { UsageError, intOption, parse } from "./args.js";

const USAGE = "usage: blinkd web [--prefix DIR] [--socket PATH] [--port N]";

/** The port tried first when none is given; the next ones are tried when it is taken. */
export const DEFAULT_PORT = 8470;

export async function webCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { prefix: { type: "string" }, socket: { type: "string" }, port: { type: "string" } }, USAGE);
  if (positionals.length) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}\n${USAGE}`);
  const port = intOption(values.port, "port", 0, 65535);
  const socket = await findDaemon({ socket: values.socket, prefix: values.prefix });
  const feed = await Feed.start(socket);
  let web;
  try {
    web = await startWeb(feed, { port: port ?? DEFAULT_PORT, retries: port === undefined ? 20 : 0 });
  } catch (e) {
    feed.close();
    throw e;
  }
  const say = (s: string): boolean => process.stdout.write(s);
  say(`blinkd web: watching the namespace at ${socket}\n`);
  say(`blinkd web: open ${web.url}\n`);
  say("blinkd web: the page reads the namespace and cannot change it; Ctrl-C stops this server\n");
  web.onStreams = (n) => void say(`blinkd web: ${n} page${n === 1 ? "" : "s"} watching\n`);
  void feed.ended.then(() => say(`blinkd web: the daemon is gone (${feed.gone}); the pages keep its recorded history; Ctrl-C stops this server\n`));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  say(`blinkd web: ${signal}: stopping\n`);
  feed.close();
  await web.close();
  return 0;
}
