/** `blinkd events [--follow] [--pid N]`: the daemon's recent actor transitions and calls, or a live stream of them. */
import type { EventRecord } from "../protocol/records.js";
import { CONTROL_USAGE, UsageError, connectControl, controlOptions, parse, wholeNumber } from "./args.js";

const USAGE = `usage: blinkd events ${CONTROL_USAGE} [--json] [--follow] [--pid N]`;

export function formatEvent(r: EventRecord | { kind: "lost"; count: number }): string {
  if (r.kind === "lost") return `(${r.count} records lost: the reader fell behind)`;
  const head = `${String(r.t).padStart(8)}ms  ${r.actor.padEnd(10)} ${r.kind.padEnd(10)}`;
  switch (r.kind) {
    case "transition":
      return `${head} ${r.event}: ${r.from} -> ${r.to}`;
    case "update":
      return `${head} ${r.event} (${r.to})`;
    case "spawn":
      return `${head} ${r.to}`;
    case "call":
      return `${head} ${r.event} ${JSON.stringify(r.args ?? {}, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
    case "reply":
      return `${head} ${r.event} = ${r.result}`;
  }
}

const json = (r: unknown): string => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v));

export async function eventsCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { ...controlOptions, json: { type: "boolean" }, follow: { type: "boolean", short: "f" }, pid: { type: "string" } },
    USAGE,
  );
  const pid = values.pid === undefined ? 0 : (wholeNumber(values.pid) ?? -1);
  if (!Number.isInteger(pid) || pid < 0 || pid > 0x7fffffff) throw new UsageError(`--pid takes a whole number, not ${JSON.stringify(values.pid)}`);
  const ctl = await connectControl(values);
  const print = (r: EventRecord | { kind: "lost"; count: number }): void => {
    if (!process.stdout.destroyed) process.stdout.write((values.json ? json(r) : formatEvent(r)) + "\n");
  };
  try {
    if (!values.follow) {
      for (const r of await ctl.events(pid)) print(r);
      return 0;
    }
    const stop = new AbortController();
    const onSig = (): void => stop.abort();
    // A reader that went away (`| head`) ends the stream quietly.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" ? stop.abort() : undefined));
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    try {
      await ctl.follow(pid, print, stop.signal);
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
    return 0;
  } finally {
    ctl.close();
  }
}
