/**
 * The handshake deadlines of all connections behind one timer (src/server/deadlines.ts):
 * each deadline still runs its own `ms` after it was set (not at an earlier one's moment),
 * in the order set; a cancelled one never runs; and the one timer does not keep the
 * process alive (the daemon's other timers are unref'd too). End to end, through the
 * daemon's socket: spec/harden.limits.test.ts (--handshake-timeout-ms).
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Deadlines } from "../../src/server/deadlines.js";

const MS = 60;

function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (cond()) return resolve();
      if (performance.now() - start > ms) return reject(new Error(`${what} did not happen within ${ms} ms`));
      setTimeout(poll, 2);
    };
    poll();
  });
}

describe("Deadlines: one timer for deadlines of one length", () => {
  it("runs each deadline its own length after it was set, in order; a cancelled one never", async () => {
    const d = new Deadlines(MS);
    const ran: { name: string; after: number }[] = [];
    const set = (name: string): { cancel(): void } => {
      const t0 = performance.now();
      return d.set(() => ran.push({ name, after: performance.now() - t0 }));
    };
    set("a");
    const b = set("b");
    await new Promise((r) => setTimeout(r, MS / 2));
    set("c");
    b.cancel();
    await until(() => ran.length >= 1, "the first deadline");
    // c was set MS/2 later than a: it has not run at a's moment.
    expect(ran.map((r) => r.name)).toEqual(["a"]);
    await until(() => ran.length >= 2, "the second deadline");
    await new Promise((r) => setTimeout(r, MS));
    expect(ran.map((r) => r.name)).toEqual(["a", "c"]);
    for (const r of ran) expect(r.after).toBeGreaterThanOrEqual(MS - 1);
    expect(d.size).toBe(0);
  });

  it("keeps running deadlines set after the queue emptied, and one set from a deadline's callback", async () => {
    const d = new Deadlines(10);
    const ran: string[] = [];
    d.set(() => {
      ran.push("first");
      d.set(() => ran.push("from first"));
    });
    await until(() => ran.length === 2, "both deadlines");
    d.set(() => ran.push("again"));
    await until(() => ran.length === 3, "a deadline set after the queue emptied");
    expect(ran).toEqual(["first", "from first", "again"]);
  });

  it("does not keep the process alive", () => {
    const mod = path.resolve("dist/src/server/deadlines.js");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `import { Deadlines } from ${JSON.stringify(mod)}; new Deadlines(60_000).set(() => console.log("ran"));`], {
      timeout: 10_000,
      encoding: "utf8",
    });
    expect(r.error, "the process still ran after 10 s: the timer held it").toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
  });
});
