/**
 * A real browser for the web view's tests: Debian's headless Chromium driven over the Chrome
 * DevTools Protocol through --remote-debugging-pipe (JSON messages ended by NUL on fds 3
 * and 4), so no WebSocket client and no browser download are needed. Every wait is bounded
 * and says what it waited for.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";

/**
 * The Chromium binary, or undefined when none is installed (`apt-get install chromium`).
 * CHROMIUM=PATH chooses another; CHROMIUM= (empty) runs the suites as if none were installed.
 */
export const CHROMIUM: string | undefined = (process.env.CHROMIUM !== undefined ? [process.env.CHROMIUM] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"]).find(
  (p) => !!p && fs.existsSync(p),
);

/** Test artefacts (screenshots): a gitignored directory at the checkout's root. */
export const ARTIFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  method: string;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(method: string, params: Record<string, unknown>, session?: string) => void>();
  private buf = "";
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly profile: string,
  ) {
    const out = proc.stdio[4] as Readable;
    out.setEncoding("utf8");
    out.on("data", (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf("\0")) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, i)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
        this.buf = this.buf.slice(i + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
          else p?.resolve(msg.result ?? {});
        } else if (msg.method) for (const l of this.listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    });
    this.exited = new Promise((r) => proc.once("exit", () => r()));
    void this.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited while ${p.method} was outstanding`));
      this.pending.clear();
    });
  }

  static async launch(): Promise<Browser> {
    if (!CHROMIUM) throw new Error("no chromium installed");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-chromium-"));
    const proc = spawn(
      CHROMIUM,
      [
        "--headless",
        "--remote-debugging-pipe",
        // As root, Chromium's sandbox cannot start; the page is our own, served on 127.0.0.1.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--mute-audio",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      // Its own process group, so that close() ends every process it starts.
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true },
    );
    let err = "";
    proc.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const b = new Browser(proc, profile);
    try {
      await withTimeout(b.send("Browser.getVersion"), 20_000, () => `chromium did not answer on its DevTools pipe within 20 s:\n${err}`);
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.proc.stdio[3] as Writable).write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    });
  }

  on(f: (method: string, params: Record<string, unknown>, session?: string) => void): () => void {
    this.listeners.add(f);
    return () => void this.listeners.delete(f);
  }

  /** A new tab of the given size. */
  async newPage(width = 1400, height = 900): Promise<Page> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  /** Asks Chromium to close, then ends its process group (the renderers and helpers it started) and removes its profile. */
  async close(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      await withTimeout(this.send("Browser.close"), 5000, () => "no answer").catch(() => undefined);
      await withTimeout(this.exited, 5000, () => "still running").catch(() => undefined);
    }
    try {
      process.kill(-this.proc.pid!, "SIGKILL");
    } catch {
      /* the group is gone already */
    }
    for (const s of this.proc.stdio) s?.destroy();
    // Chromium's helper processes may still be writing into the profile for a moment.
    fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(what())), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e as Error)),
    );
  });
}

export class Page {
  readonly errors: string[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly session: string,
  ) {
    browser.on((method, params, session) => {
      if (session !== this.session) return;
      if (method === "Runtime.exceptionThrown") {
        const d = params.exceptionDetails as { text?: string; exception?: { description?: string } };
        this.errors.push(d.exception?.description ?? d.text ?? "an exception");
      } else if (method === "Runtime.consoleAPICalled" && params.type === "error") {
        this.errors.push(((params.args as { value?: unknown; description?: string }[]) ?? []).map((a) => String(a.value ?? a.description)).join(" "));
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.session);
  }

  /** Goes to `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.browser.on((method, _p, session) => {
        if (session === this.session && method === "Page.loadEventFired") {
          off();
          resolve();
        }
      });
    });
    await this.send("Page.navigate", { url });
    await withTimeout(loaded, 15_000, () => `${url} did not finish loading within 15 s`);
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}\n  evaluating ${expression}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; fails after `timeoutMs` saying `what` never came and what the page showed. */
  async waitFor<T = unknown>(expression: string, what: string, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.eval<T>(expression).catch((e: Error) => e.message);
      if (last && !(typeof last === "string" && last.startsWith("in the page:"))) return last as T;
      if (Date.now() > until) {
        const status = await this.eval<string>(`document.getElementById("status")?.textContent + " | " + document.getElementById("at")?.textContent`).catch(() => "?");
        throw new Error(`the page never showed ${what} within ${timeoutMs} ms (last value ${JSON.stringify(last)}; page: ${status}; errors: ${this.errors.join(" / ") || "none"})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async click(selector: string): Promise<void> {
    const ok = await this.eval<boolean>(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.dispatchEvent(new MouseEvent("click", { bubbles: true })); return true; })()`);
    if (!ok) throw new Error(`nothing in the page matches ${selector}`);
  }

  /** Sets an input's value as typing does (an input event follows). */
  async type(selector: string, value: string): Promise<void> {
    const ok = await this.eval<boolean>(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.value = ${JSON.stringify(value)}; el.dispatchEvent(new Event("input", { bubbles: true })); return true; })()`,
    );
    if (!ok) throw new Error(`nothing in the page matches ${selector}`);
  }

  /** Asks the page for the dark (or light) colour scheme, as a system setting would. */
  async colorScheme(value: "dark" | "light"): Promise<void> {
    await this.send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value }] });
  }

  /** A PNG of the viewport, written to `file` under the artefacts directory; returns its path. */
  async screenshot(name: string): Promise<string> {
    const { data } = (await this.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, name);
    fs.writeFileSync(file, Buffer.from(data, "base64"));
    return file;
  }
}
