/**
 * The HTTP side of `blinkd web`, on node:http alone: the page (static files from
 * src/web/page/, served as they are, and d3-hierarchy's ES module from node_modules), the
 * history and live records as server-sent events, and the --json views. Bound to 127.0.0.1
 * only; every request must carry the token printed at start (in the URL's `token` query,
 * which sets a cookie for the page's own requests, or an `Authorization: token …` header),
 * as Jupyter does. Only GET and HEAD: nothing here can act on the namespace.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { createRequire } from "node:module";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import { json, type Feed, type Item } from "./feed.js";

/** dist/src/web → the checkout, where src/web/page/ holds the page. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const PAGE_DIR = path.join(ROOT, "src/web/page");
const D3_HIERARCHY = createRequire(import.meta.url).resolve("d3-hierarchy");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Scripts, styles and connections from this origin only; no inline script, no frames. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebLimits {
  /** Pages streaming at once; one more gets 503. */
  readonly maxStreams: number;
  /** Bytes waiting to be written to one page; a page that falls that far behind is disconnected (it reconnects and gets the history again). */
  readonly maxStreamBacklog: number;
}

export const defaultWebLimits: WebLimits = { maxStreams: 16, maxStreamBacklog: 32 << 20 };

export interface WebServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Called with the number of pages streaming, each time one opens or closes. */
  onStreams: (n: number) => void;
  close(): Promise<void>;
}

const REFUSED = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>blinkd web: token needed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:38em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:0 .2em}</style>
</head><body><h1>403: this page needs its token</h1>
<p>The blinkd web view answers only requests that carry the token <code>blinkd web</code> printed when it started.
Open the whole URL it printed, the one that ends in <code>?token=…</code>.</p>
<p>Lost it? Stop <code>blinkd web</code> and start it again: it prints a new one.</p>
</body></html>
`;

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, head: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
    ...head,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** The page's files: exactly the names in the page directory (no path can reach elsewhere). */
function pageFiles(): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fs.readdirSync(PAGE_DIR)) if (path.extname(f) in TYPES && !f.endsWith(".d.ts")) m.set(`/${f}`, path.join(PAGE_DIR, f));
  m.set("/", path.join(PAGE_DIR, "index.html"));
  m.set("/vendor/d3-hierarchy.mjs", D3_HIERARCHY);
  return m;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Starts the server. `port` 0 takes any free port; `retries` tries the next ports when the
 * one asked for is taken (for the default port, as Jupyter does).
 */
export async function startWeb(feed: Feed, opts: { port: number; retries?: number; limits?: WebLimits }): Promise<WebServer> {
  const limits = opts.limits ?? defaultWebLimits;
  const token = randomBytes(24).toString("hex");
  const files = pageFiles();
  const streams = new Set<http.ServerResponse>();
  let port = 0;
  let cookieName = "";
  const web: WebServer = {
    url: "",
    port: 0,
    token,
    onStreams: () => {},
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const authorized = (req: http.IncomingMessage, url: URL): boolean => {
    const auth = req.headers.authorization;
    const fromHeader = auth?.startsWith("token ") ? auth.slice(6).trim() : undefined;
    return sameToken(url.searchParams.get("token") ?? undefined, token) || sameToken(fromHeader, token) || sameToken(cookie(req, cookieName), token);
  };

  const stream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (streams.size >= limits.maxStreams) return send(res, 503, "text/plain; charset=utf-8", `blinkd web: ${limits.maxStreams} pages are watching already; close one\n`);
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", Connection: "keep-alive" });
    const write = (item: Item): void => {
      if (res.writableLength > limits.maxStreamBacklog) {
        // Too far behind: this page reconnects and is sent the history again.
        res.destroy();
        return;
      }
      res.write(`event: ${item.event}\ndata: ${item.data}\n\n`);
    };
    for (const item of feed.history()) write(item);
    write({ event: "live", seq: 0, data: "{}" });
    const unsubscribe = feed.subscribe(write);
    const beat = setInterval(() => res.write(": still here\n\n"), 15_000);
    streams.add(res);
    web.onStreams(streams.size);
    req.on("close", () => {
      clearInterval(beat);
      unsubscribe();
      streams.delete(res);
      web.onStreams(streams.size);
    });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // A name other than this address (DNS rebinding: a foreign page's name pointed at 127.0.0.1) is refused.
    const host = req.headers.host ?? "";
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
      return send(res, 403, "text/plain; charset=utf-8", `blinkd web: refused a request for host ${JSON.stringify(host)}; open http://127.0.0.1:${port}/\n`);
    if (!authorized(req, url)) return send(res, 403, "text/html; charset=utf-8", REFUSED);
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain; charset=utf-8", "blinkd web only reads: GET or HEAD\n", { Allow: "GET, HEAD" });
    // The token in the URL: set the cookie the page's own requests carry, and take the token out of the address bar.
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      const rest = url.searchParams.toString();
      res.writeHead(303, {
        Location: url.pathname + (rest ? `?${rest}` : ""),
        "Set-Cookie": `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        "Cache-Control": "no-store",
      });
      return res.end();
    }
    const route = url.pathname;
    if (route === "/api/stream") return stream(req, res);
    if (route === "/api/snapshot" || route === "/api/check") {
      const get = route === "/api/check" ? feed.check() : feed.inspect();
      get.then(
        (v) => send(res, 200, "application/json", json(v) + "\n"),
        (e: Error) => send(res, 503, "application/json", json({ error: e.message }) + "\n"),
      );
      return;
    }
    const file = files.get(route);
    if (!file) return send(res, 404, "text/plain; charset=utf-8", `blinkd web: no ${route} here\n`);
    fs.readFile(file, (err, body) => {
      if (err) return send(res, 500, "text/plain; charset=utf-8", `blinkd web: cannot read ${path.basename(file)}: ${err.message}\n`);
      send(res, 200, TYPES[path.extname(file)] ?? "application/octet-stream", body);
    });
  });

  const tries = (opts.retries ?? 0) + 1;
  for (let i = 0; ; i++) {
    try {
      port = await listen(server, opts.port === 0 ? 0 : opts.port + i);
      break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== "EADDRINUSE" || opts.port === 0 || i + 1 >= tries)
        throw new Error(
          err.code === "EADDRINUSE" ? `port ${opts.port + i} on 127.0.0.1 is taken (another blinkd web?); choose one with --port N, or --port 0 for any free one` : `cannot listen on 127.0.0.1:${opts.port + i}: ${err.message}`,
        );
    }
  }
  cookieName = `blinkd-web-${port}`;
  return Object.assign(web, { port, url: `http://127.0.0.1:${port}/?token=${token}` });
}
