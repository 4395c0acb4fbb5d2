/** `blinkd web` as a test runs it: the real command, the URL it prints, and raw HTTP requests to it. */
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import { createInterface } from "node:readline";
import { NODE_BIN } from "./daemon.js";

export interface Web {
  proc: ChildProcess;
  url: string;
  origin: string;
  lines: string[];
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the real `blinkd web` and reads the URL it prints. */
export async function startWeb(args: string[]): Promise<Web> {
  const proc = spawn(process.execPath, [...NODE_BIN, "web", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of [...waiters]) w();
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const waitLine = (re: RegExp, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const l = lines.find((x) => re.test(x));
        if (!l) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve(l);
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`blinkd web never printed ${re} within ${timeoutMs} ms; it printed:\n${lines.join("\n")}\n${err}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const url = (await waitLine(/open http/)).replace(/^.*open /, "");
  return {
    proc,
    url,
    origin: new URL(url).origin,
    lines,
    waitLine,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

/** A raw request, so that the Host header is ours to set. */
export function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}


export interface SseEvent {
  event: string;
  data: string;
}

export interface Stream {
  readonly status: number;
  readonly events: SseEvent[];
  /** Resolves with the first event (in arrival order) `pred` accepts; fails after `timeoutMs` saying what never came. */
  next(pred: (e: SseEvent) => boolean, what: string, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens /api/stream with the token and parses the server-sent events as they come. */
export function openStream(web: Web): Promise<Stream> {
  const token = new URL(web.url).searchParams.get("token")!;
  return new Promise((resolve, reject) => {
    const req = http.get(`${web.origin}/api/stream`, { headers: { Authorization: `token ${token}` } }, (res) => {
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev !== undefined && data !== undefined) events.push({ event: ev, data });
        }
        for (const w of [...waiters]) w();
      });
      resolve({
        status: res.statusCode ?? 0,
        events,
        next: (pred, what, timeoutMs = 10_000) =>
          new Promise((ok, fail) => {
            const check = (): void => {
              const e = events.find(pred);
              if (!e) return;
              waiters.delete(check);
              clearTimeout(t);
              ok(e);
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`the stream never sent ${what} within ${timeoutMs} ms (it sent ${events.length} events, the last: ${JSON.stringify(events.slice(-3))})`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
  });
}
