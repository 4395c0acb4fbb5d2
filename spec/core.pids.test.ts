/**
 * PID allocation, shown against real Linux: the same sequence of forks, exits, reaps and
 * thread creations runs as PID 1 of a real PID namespace (unshare --pid --fork, a C
 * program) and through a real `blinkd serve`, and both print the same pids. Linux 6.14+
 * keeps pid_max per PID namespace, so the real side can wrap at a small pid_max too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, serve, type Served } from "./helpers/daemon.js";
import { Raw, StandIn } from "./helpers/raw.js";
import { withoutRoot } from "./helpers/root.js";

let bin: string;
const standIns: StandIn[] = [];
beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-pidorder-"));
  bin = path.join(dir, "pidorder");
  execFileSync("cc", ["-O1", "-pthread", "-o", bin, path.join(ROOT, "spec/linux/pidorder.c")]);
});
afterAll(() => {
  for (const s of standIns) s.kill();
});

/** The ops under real Linux: the C program as PID 1 of a new PID namespace (root); undefined, said, without root. */
function linux(ops: string[]): string[] | undefined {
  if (withoutRoot("PID allocation under unshare --pid; blinkd's is checked against the expected pids alone")) return undefined;
  const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", bin, ...ops], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pidorder failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

/** The same ops through blinkd: init is a raw guest; children are fork reservations whose end the parent reports, as a reaper does. */
async function blinkd(ops: string[]): Promise<string[]> {
  const pidMax = ops.find((o) => o.startsWith("pidmax:"))?.slice(7);
  const d: Served = await serve([...(pidMax ? ["--pid-max", pidMax] : []), "--reserve-timeout-ms", "3600000"]);
  const host = StandIn.start();
  standIns.push(host);
  const init = await Raw.open(d.socket);
  const lines: string[] = [];
  const fork = async (): Promise<number | string> => {
    const r = await init.call("fork");
    return Number(r.result) < 0 ? `-1 ${r.result === -11 ? "EAGAIN" : r.result}` : Number(r.result);
  };
  try {
    expect(await init.register(host.pid)).toBe(1);
    for (const op of ops) {
      if (op.startsWith("pidmax:")) continue;
      if (op === "f") lines.push(`fork -> ${await fork()}`);
      else if (op.startsWith("F:")) {
        const n = Number(op.slice(2));
        const got: number[] = [];
        let fail: string | undefined;
        for (let k = 0; k < n && !fail; k++) {
          const p = await fork();
          if (typeof p === "number") got.push(p);
          else fail = p;
        }
        lines.push(`fork x${n} -> ${got[0]}..${got[got.length - 1]}${fail ? `, then ${fail}` : ""}`);
      } else if (op.startsWith("e:")) {
        const p = Number(op.slice(2));
        expect((await init.call("report_status", { pid: p, wstatus: (p % 100) << 8 })).result).toBe(0);
        lines.push(`exit ${p}`);
      } else if (op.startsWith("r:")) {
        const r = await init.call("wait4", { pid: Number(op.slice(2)), options: 0 });
        lines.push(`reap ${r.result} -> exited(${((r.out[0] as number) >> 8) & 0xff})`);
      } else if (op === "t") {
        lines.push(`thread -> ${(await init.call("thread_create")).result}`);
      } else throw new Error(`bad op ${op}`);
    }
    return lines;
  } finally {
    init.destroy();
    await d.stop();
  }
}

describe("PID allocation matches real Linux", () => {
  it("upward from 1; a zombie keeps its pid; no reuse after reaping until the wrap; threads share the numbers", async () => {
    const ops = ["f", "f", "f", "e:3", "f", "r:3", "f", "t", "f", "e:2", "r:2", "f"];
    const want = linux(ops);
    const expected = [
      "fork -> 2",
      "fork -> 3",
      "fork -> 4",
      "exit 3",
      "fork -> 5",
      "reap 3 -> exited(3)",
      "fork -> 6",
      "thread -> 7",
      "fork -> 8",
      "exit 2",
      "reap 2 -> exited(2)",
      "fork -> 9",
    ];
    if (want) expect(want).toEqual(expected);
    expect(await blinkd(ops)).toEqual(want ?? expected);
  });

  it("wraps at pid_max back to RESERVED_PIDS (300), never below it once past it, and EAGAIN when full", async () => {
    const ops = ["pidmax:310", "f", "f", "f", "e:3", "f", "r:3", "f", "t", "F:301", "f", "e:301", "r:301", "f", "e:5", "r:5", "f", "e:303", "r:303", "f"];
    const want = linux(ops);
    const got = await blinkd(ops);
    if (want) expect(got).toEqual(want);
    expect(got.slice(-10)).toEqual([
      "fork -> 309",
      "exit 301",
      "reap 301 -> exited(1)",
      "fork -> 301",
      "exit 5",
      "reap 5 -> exited(5)",
      "fork -> -1 EAGAIN",
      "exit 303",
      "reap 303 -> exited(3)",
      "fork -> 303",
    ]);
  });
});

describe("PID allocation below RESERVED_PIDS (blinkd allows a pid_max Linux does not)", () => {
  it("--pid-max 8: pids 1..7, EAGAIN when full, then the wrap finds the reaped number", async () => {
    const lines = await blinkd(["pidmax:8", "F:6", "f", "e:4", "f", "r:4", "f", "t", "e:2", "r:2", "t"]);
    expect(lines).toEqual([
      "fork x6 -> 2..7",
      "fork -> -1 EAGAIN",
      "exit 4",
      "fork -> -1 EAGAIN",
      "reap 4 -> exited(4)",
      "fork -> 4",
      "thread -> -11",
      "exit 2",
      "reap 2 -> exited(2)",
      "thread -> 2",
    ]);
  });

  it("register is EAGAIN when the namespace is full", async () => {
    const d = await serve(["--pid-max", "3"]);
    const host = StandIn.start();
    standIns.push(host);
    const a = await Raw.open(d.socket);
    const b = await Raw.open(d.socket);
    const c = await Raw.open(d.socket);
    try {
      expect(await a.register(host.pid)).toBe(1);
      expect(await b.register(host.pid)).toBe(2);
      await c.hello();
      const r = await c.call("register", { hostpid: host.pid, exe: "/x", argv: [], delivery: 0 });
      expect(r.result).toBe(-11);
      expect(r.out[0]).toMatch(/no free pid below pid_max 3/);
    } finally {
      for (const x of [a, b, c]) x.destroy();
      await d.stop();
    }
  });
});
