/**
 * The C client (clients/c), built by `npm run build` with the machine's C compiler: its call
 * table is the schema's (no drift), it passes the shared msgpack vectors, and it makes
 * every family's calls against a real daemon, in a separate process, over the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { tableListing } from "../src/protocol/cheader.js";
import { ROOT, serve, type Served } from "./helpers/daemon.js";
const VECTORS = path.join(ROOT, "spec/vectors/msgpack.txt");

const CTEST = path.join(ROOT, "dist/c/blinkd-ctest");

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CTEST, args, { env: { ...process.env, ...env }, timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe("C client", () => {
  it("was built from this schema: its call table and version hash are the schema's", async () => {
    const r = await run(["table"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(tableListing());
  });

  it("passes the shared msgpack vectors", async () => {
    const r = await run(["vectors", VECTORS]);
    expect(r.stdout).toMatch(/^\d+ vectors, 0 failures$/m);
    expect(r.code).toBe(0);
  });

  describe("against the daemon", () => {
    let d: Served;
    beforeAll(async () => {
      d = await serve();
    });
    afterAll(async () => {
      await d.stop();
    });

    it("makes every family's calls: session, process, threads, wait with interrupts, signal, control", async () => {
      const r = await run(["calls"], { BLINKD_SOCKET: d.socket });
      expect(r.stdout).not.toContain("FAIL");
      expect(r.stdout.split("\n")).toEqual([
        // session: the version is checked; calls before register are refused
        "hello(bad version) = -71 names the version",
        "hello = 0 daemon=blinkd 0.1.0 pidMax=32768",
        "getpid before register = -71",
        "register = 1",
        "getpid = 1 getppid = 0 gettid = 1",
        "register again = -71",
        // process: the child claims its reservation on its own connection; exit_group's status is exact
        "wait4(child) = child wstatus=0x700",
        "wait4(-1, WNOHANG) with no children = -10",
        "fork_abort = 0, again = -3",
        // a child killed by SIGTERM: SIGKILL assumed at EOF, the parent's host status corrects it
        "host status of the killed child: signaled 15",
        "report_status = 0",
        "wait4 after report = child wstatus=0xf",
        "report_status(not a child) = -3",
        "thread_create = a new tid",
        "thread tid=5 pid=1 gettid=5 getpid=1",
        "thread_abort = 0",
        "rt_sigaction(SIGCHLD, SIG_DFL) = 0",
        "rt_sigaction(SIGKILL) = -22",
        "rt_sigaction(65) = -22",
        // a parked wait4 interrupted by a real signal: -ERESTARTSYS becomes EINTR without
        // SA_RESTART, while the handler's own call on the same connection is answered...
        "wait4 interrupted = -4 (EINTR), restart asked 1, handler's getpid = mine",
        // ...and the call is sent again with SA_RESTART, completing with the child
        "wait4 restarted = child wstatus=0x500, restarts 1",
        "execve = 0 getpid = same",
        // blinkd_conn_post: posts get no reply at all (nothing unread, nothing stashed), in order with the rest
        "after two posts: rt_sigprocmask = 0 old=0x200 unread=0 stashed=0",
        "ps from a guest = -1",
        expect.stringMatching(/^ps = 1, \d+ bytes of msgpack$/),
        "exit_group = 0",
        "getpid after exit = -3",
        "failures 0",
        "",
      ]);
      expect(r.code).toBe(0);
      // the post that failed has no reply to carry its error: the daemon's log says it
      await d.waitErr(/posted #\d+ fork_abort failed \(no reply is sent for a post\): ESRCH/);
    });
  });
});
