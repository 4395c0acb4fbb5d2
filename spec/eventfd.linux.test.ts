/**
 * The same eventfd and descriptor operations on real Linux (spec/native/efd_ops.c, run
 * natively) and through blinkd (a guest agent): the printed results must be identical.
 */
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { namespace } from "./helpers/namespace.js";
import { buildNative } from "./helpers/native.js";
import { runOps } from "./helpers/efdops.js";
import { efd, parked, value } from "./helpers/efd.js";

// Each script: lines of efd_ops.c; "$K" is the descriptor line K returned. No line may block.
const scripts: Record<string, string[]> = {
  "eventfd2 flags and F_GETFL/F_GETFD": [
    "efd 0 0", "efd 0 1", "efd 0 2048", "efd 0 524288", "efd 0 526337",
    "efd 0 2", "efd 0 64", "efd 0 -1", "efd 0 256",
    "fcntl $0 3 0", "fcntl $2 3 0", "fcntl $4 3 0", "fcntl $3 1 0", "fcntl $4 1 0", "fcntl $0 1 0",
  ],
  "read and write: sizes, values, EBADF, EAGAIN": [
    "efd 0 2048", "read 900 8", "read 900 4", "read $0 7", "read $0 8",
    "write $0 1 7", "write $0 18446744073709551615 8", "write $0 18446744073709551615 4", "write 900 1 8",
    "write $0 5 16", "write $0 5 9", "write $0 5 8", "read $0 16", "write $0 0 8", "read $0 8",
  ],
  "the counter's ceiling 0xfffffffffffffffe": [
    "efd 0 2048", "write $0 18446744073709551614 8", "ready $0", "write $0 1 8", "write $0 0 8",
    "read $0 8", "ready $0", "write $0 18446744073709551613 8", "write $0 1 8", "write $0 1 8", "ready $0",
    "read $0 8",
  ],
  "EFD_SEMAPHORE": ["efd 2 2049", "read $0 8", "read $0 8", "read $0 8", "write $0 3 8", "read $0 8", "ready $0", "read $0 8", "read $0 8", "ready $0"],
  "initval is exact": ["efd 4294967295 2048", "read $0 8", "efd 4294967295 2049", "read $2 8", "ready $2"],
  "fcntl": [
    "efd 0 0", "fcntl $0 9999 0", "fcntl 900 9999 0", "fcntl 900 1 0", "fcntl $0 4 2048", "fcntl $0 3 0", "read $0 8",
    "fcntl $0 4 16384", "fcntl $0 4 271360", "fcntl $0 3 0", "fcntl $0 4 0", "fcntl $0 3 0",
    "fcntl $0 2 1", "fcntl $0 1 0", "fcntl $0 2 3", "fcntl $0 1 0", "fcntl $0 2 0", "fcntl $0 1 0",
    "fcntl $0 0 20", "fcntl $0 1030 20", "fcntl $18 1 0", "fcntl $19 1 0", "fcntl $0 0 -1", "fcntl $0 0 1024", "fcntl $0 1030 1023",
  ],
  "dup, dup2, dup3": [
    "efd 1 0", "efd 2 0", "dup2 $0 $0", "dup2 900 900", "dup3 $0 $0 0", "dup3 $0 40 1", "dup3 $0 40 2048",
    "dup2 $0 1024", "dup2 $0 -1", "dup2 900 41", "dup3 $0 42 524288", "fcntl 42 1 0", "dup2 $0 $1", "fcntl $1 1 0",
    "read $1 8", "close $0", "close $0", "dup 42", "fcntl $17 1 0", "close 42", "poll 42 1 0", "close 42",
  ],
  "fdinfo (what procfs shows)": [
    "efd 0 0", "fdinfo $0", "efd 300 526337", "fdinfo $2", "write $0 18446744073709551614 8", "fdinfo $0",
    "fcntl $0 2 1", "fcntl $0 4 2048", "fdinfo $0", "dup $2", "fdinfo $9", "fdinfo 900",
  ],
  "poll": ["efd 0 2048", "poll $0 1 0", "poll $0 4 0", "poll $0 5 0", "write $0 3 8", "poll $0 1 -1", "poll $0 5 10", "poll -1 1 0", "poll 900 1 0", "poll $0 0 0"],
};

let prog: string;
let procs: string;

beforeAll(() => {
  prog = buildNative("efd_ops");
  procs = buildNative("efd_procs");
});
const ns = namespace();
const { track } = ns;

describe("eventfd and descriptors: blinkd prints what real Linux prints", () => {
  for (const [name, lines] of Object.entries(scripts)) {
    it(name, async () => {
      const linux = execFileSync(prog, { input: lines.join("\n") + "\n", encoding: "utf8" }).trimEnd().split("\n");
      const a = await track(ns.init.fork());
      const ours = await runOps(a, lines);
      const side = (out: string[]) => lines.map((l, i) => `${l.padEnd(40)} → ${out[i]}`);
      expect(side(ours)).toEqual(side(linux));
    });
  }
});

it("across processes (spec/native/efd_procs.c): fork shares the counter, a blocked read is woken, a signal interrupts it, exec closes only CLOEXEC", async () => {
  const linux = execFileSync(procs, { encoding: "utf8" }).trimEnd().split("\n");
  const out: string[] = [];
  const p = await track(ns.init.fork());
  const e = await efd(p, 0, 0);
  const c = await efd(p, 0, 0o2000000);
  const c1 = await track(p.fork());
  await c1.ok("eventfd_write", { fd: e, value: 2n, size: 8 });
  await c1.exit(0);
  await p.ok("wait4", { pid: c1.pid, options: 0 });
  out.push(`parent read ${value(await p.call("eventfd_read", { fd: e, size: 8 }))} after the child wrote`);

  const c2 = await track(p.fork());
  const r2 = c2.call("eventfd_read", { fd: e, size: 8 });
  await parked(p, e, 1);
  await p.ok("eventfd_write", { fd: e, value: 5n, size: 8 });
  out.push(`child read ${value(await r2)}`);

  // The interrupt message is what blink sends when a host signal without SA_RESTART arrives.
  const c3 = await track(p.fork());
  const r3 = c3.send("eventfd_read", { fd: e, size: 8 });
  await parked(p, e, 1);
  c3.abort(r3.id);
  const i3 = await r3.reply;
  out.push(i3.ok ? "child read something" : `child read ${i3.code}`);
  await p.ok("eventfd_write", { fd: e, value: 7n, size: 8 });
  out.push(`counter after the interrupt then a write of 7: ${value(await p.call("eventfd_read", { fd: e, size: 8 }))}`);

  // A forked agent is a Node.js child: fork then exec.
  const c4 = await track(p.fork());
  for (const [name, fd] of [["plain", e], ["cloexec", c]] as const) {
    const r = await c4.call("fcntl", { fd, cmd: 1, arg: 0 });
    out.push(`after exec: ${name} ${r.ok ? "open" : r.code}`);
  }
  expect(out).toEqual(linux);
});
