/**
 * eventfd in blink (clients/blink/patches, blink/daemonfd.c): a blink guest's eventfd is
 * blinkd's, a blink VFS file whose read and write are blinkd's eventfd_read and
 * eventfd_write, whose poll is blinkd's `ready`, and whose host epoll descriptor is the
 * FIFO blinkd keeps readable with the counter.
 *
 * (a) spec/native/efd_blink.c runs as PID 1 in blink under `blinkd run --blink-path` and
 *     natively under `unshare --pid --fork --mount-proc`: the same lines (semaphore mode,
 *     EAGAIN, the counter's ceiling blocking and EAGAIN, poll, select, epoll, ping-pong across
 *     fork, a blocked read interrupted by a handled signal and restarted with SA_RESTART, dup,
 *     dup2, dup3, F_DUPFD_CLOEXEC, and execve keeping exactly the descriptors without
 *     FD_CLOEXEC, each at the number Linux gives).
 * (b) Node.js starts in blink as PID 1 (libuv's loop wakes through blinkd's eventfd: an
 *     async fs.readFile completes on the threadpool and wakes the main thread), runs a
 *     timer and child processes, and prints what it prints in a real PID namespace.
 * (c) From outside, /proc/PID/fd and fdinfo of the blink guests (blinkd's procfs) show
 *     their eventfds at the numbers the guests use, with Linux's flags and counts, while
 *     the child is blocked reading one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { BLINK, describeBlink } from "./helpers/blink.js";
import { cli, tempPrefix } from "./helpers/daemon.js";
import { type Where, initOf, isRoot, procOf, runAsInit } from "./helpers/asinit.js";
import { buildNative } from "./helpers/native.js";

let prog: string;

beforeAll(() => {
  prog = buildNative("efd_blink");
});

const both = async (exe: string, o: Parameters<typeof runAsInit>[2]) => {
  const blink = await runAsInit("blink", exe, o);
  const linux = await runAsInit("linux", exe, o);
  return { blink, linux };
};

// blink is slower than the host and the machine is shared: generous bounds, each one reported
const noInspect = { resume: "end" as const, inspect: async () => [], timeoutMs: 120_000 };

describeBlink("eventfd in blink through blinkd", () => {
  it.skipIf(!isRoot)("(a) a C program's eventfd(2) through libc in blink prints what it prints on Linux", async () => {
    const { blink, linux } = await both(prog, noInspect);
    expect(linux.lines.at(-1)).toBe("done");
    expect(linux.lines.filter((l) => l.includes("FAILED"))).toEqual([]);
    expect(blink.lines).toEqual(linux.lines);
    expect(blink.code).toBe(0);
  }, 300_000);

  it("(b) Node.js starts in blink as PID 1: console.log(process.pid) prints 1", async () => {
    const r = await cli(["run", "--prefix", tempPrefix(), "--blink-path", BLINK, "--", process.execPath, "-e", "console.log(process.pid)"], {}, 120_000);
    expect({ out: r.stdout, code: r.code, err: r.stderr }).toEqual({ out: "1\n", code: 0, err: "" });
  }, 300_000);

  it.skipIf(!isRoot)("(b) Node.js in blink: timers, child processes, fs and a loop woken through blinkd's eventfd, as on Linux", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-node-"));
    const script = path.join(dir, "loop.js");
    fs.writeFileSync(
      script,
      `const cp = require("child_process"), fs = require("fs");
console.log("pid", process.pid, "ppid", process.ppid);
const t0 = Date.now();
setTimeout(() => {
  console.log("timer after at least 50 ms", Date.now() - t0 >= 50);
  console.log("spawnSync /bin/true", cp.spawnSync("/bin/true").status);
  console.log("readFileSync", fs.readFileSync(__filename, "utf8").includes("readFileSync") ? "ok" : "wrong");
  console.log("inspect");
  process.stdin.once("data", () => {
    process.stdin.destroy();
    fs.readFile(__filename, "utf8", (err, text) => {
      console.log("readFile on the threadpool", err ? err.code : text.includes("threadpool") ? "ok" : "wrong");
      const c = cp.spawn("/bin/sh", ["-c", "echo child says hello; exit 3"], { stdio: ["ignore", "pipe", "inherit"] });
      c.stdout.on("data", (d) => process.stdout.write("child: " + d));
      c.on("exit", (code) => console.log("child exit", code));
    });
  });
}, 50);
`,
    );
    // What the test reads from outside while Node.js waits for its line: its eventfds.
    const eventfds = async (where: Where, launcher: number, prefix: string): Promise<string[]> => {
      const { root, init } = await procOf(where, launcher, prefix);
      const n = fs.readdirSync(path.join(root, String(init), "fd")).filter((fd) => {
        try {
          return fs.readlinkSync(path.join(root, String(init), "fd", fd)) === "anon_inode:[eventfd]";
        } catch {
          return false;
        }
      }).length;
      return [`holds an eventfd: ${n > 0}`];
    };
    const { blink, linux } = await both(process.execPath, { args: [script], resume: "line", inspect: eventfds, timeoutMs: 120_000 });
    expect(linux.lines).toContain("holds an eventfd: true");
    expect(linux.lines.at(-1)).toBe("child exit 3");
    expect(blink.lines).toEqual(linux.lines);
    expect(blink.code).toBe(0);
  }, 300_000);

  it.skipIf(!isRoot)("(c) /proc/PID/fd and fdinfo from outside show a blink guest's eventfds as Linux does, while one blocks a read", async () => {
    // The child blocks in its read soon after it starts: wait for that (bounded), then look.
    const blocked = async (where: Where, launcher: number, prefix: string): Promise<void> => {
      for (const t0 = Date.now(); Date.now() - t0 < 60_000; await new Promise((r) => setTimeout(r, 200))) {
        if (where === "linux") {
          const stat = fs.readFileSync(`/proc/${initOf(initOf(launcher))}/stat`, "utf8");
          if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("S")) return;
        } else {
          // blinkd's own view: the child's read is parked on its connection
          const r = await cli(["inspect", "--json", "--prefix", prefix, "2"]);
          const parked = r.code === 0 ? (JSON.parse(r.stdout) as { parked?: { call: string }[] }[]).flatMap((a) => a.parked ?? []) : [];
          if (parked.some((p) => p.call === "eventfd_read")) return;
        }
      }
      throw new Error(`the child (PID 2) never blocked in its read of the eventfd (${where})`);
    };
    const inspect = async (where: Where, launcher: number, prefix: string): Promise<string[]> => {
      await blocked(where, launcher, prefix);
      const { root, init } = await procOf(where, launcher, prefix);
      const child = where === "linux" ? initOf(initOf(launcher)) : 2;
      // init, done writing, goes to sleep in its wait: under load it may still be running
      // (R) a moment after the child blocks, on either side. Wait for both to sleep (bounded).
      const state = (pid: number): string => {
        const st = fs.readFileSync(path.join(root, String(pid), "stat"), "utf8");
        return st.slice(st.lastIndexOf(")") + 2).split(" ")[0]!;
      };
      for (const t0 = Date.now(); Date.now() - t0 < 10_000 && (state(init) !== "S" || state(child) !== "S"); ) await new Promise((r) => setTimeout(r, 50));
      const out: string[] = [];
      for (const [who, pid] of [["init", init], ["child", child]] as const) {
        for (const fd of [3, 4, 9]) {
          const link = fs.readlinkSync(path.join(root, String(pid), "fd", String(fd)));
          const info = fs
            .readFileSync(path.join(root, String(pid), "fdinfo", String(fd)), "utf8")
            .split("\n")
            .filter((l) => /^(pos|flags|eventfd-count|eventfd-semaphore):/.test(l));
          out.push(`${who} fd ${fd}: ${link} | ${info.join(" | ")}`);
        }
        out.push(`${who} state ${state(pid)}`);
      }
      return out;
    };
    const { blink, linux } = await both(prog, { args: ["hold"], resume: "line", inspect, timeoutMs: 120_000 });
    expect(linux.lines).toContain("init fd 3: anon_inode:[eventfd] | pos:\t0 | flags:\t02004002 | eventfd-count:                5 | eventfd-semaphore: 0");
    expect(blink.lines).toEqual(linux.lines);
    expect(blink.code).toBe(0);
  }, 300_000);
});
