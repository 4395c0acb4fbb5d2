/**
 * An init-like PID 1 and a small tree: init starts `middle`, middle starts `leaf`, and
 * middle exits without waiting, so leaf is orphaned and reparented to init, which reaps
 * both, as Linux's init does. Run it as `blinkd run -- node dist/examples/init-tree.js`
 * and watch it with `blinkd ps` while it runs.
 *
 * Roles: init (default), middle, leaf. Timings: HOLD_MS (default 1500) per stage; the demo uses 8000.
 * DEMO_GATE=FILE: init waits for FILE to exist before it starts middle (the web demo's start).
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Guest } from "../src/client/guest.js";
import { SyscallError } from "../src/client/errors.js";
import { describeStatus } from "../src/machine/wstatus.js";

const self = fileURLToPath(import.meta.url);
const role = process.argv[2] ?? "init";
const hold = Number(process.env.HOLD_MS ?? 1500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function init(g: Guest): Promise<never> {
  console.log(`init: pid ${g.getpid()}, ppid ${await g.getppid()}`);
  // `npm run demo -- --web`: the tree starts once a page watches (the demo creates this file).
  const gate = process.env.DEMO_GATE;
  if (gate) while (!fs.existsSync(gate)) await sleep(100);
  const { pid } = await g.fork(self, ["middle"]);
  console.log(`init: started middle as ${pid}`);
  for (;;) {
    try {
      const r = await g.wait4(-1, 0);
      console.log(`init: reaped ${r.pid}: ${describeStatus(r.wstatus)}`);
    } catch (e) {
      if (e instanceof SyscallError && e.code === "ECHILD") break;
      throw e;
    }
  }
  console.log("init: no children left, exiting");
  return g.exit(0);
}

async function middle(g: Guest): Promise<never> {
  // leaf is told middle's pid: on a busy machine it may start only after middle has exited.
  const { pid } = await g.fork(self, ["leaf", String(g.getpid())]);
  console.log(`middle: pid ${g.getpid()}, ppid ${await g.getppid()}, started leaf as ${pid}`);
  await running(g, pid);
  await sleep(hold);
  console.log("middle: exiting without waiting for leaf");
  return g.exit(0);
}

/**
 * Until the forked leaf runs: fork returns once pid is reserved, and leaf claims it only when
 * its Node.js has started (seconds on a loaded machine). Leaf names itself first thing, so
 * its /proc/PID/comm reads "leaf" from then on (before, it is still the embryo with middle's
 * name). Without this, middle's hold could end first and an embryo be orphaned, not leaf.
 * Bounded by the daemon's reservation (10 s by default), after which the embryo counts as killed.
 */
async function running(g: Guest, pid: number): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const r = await g.call("proc_read", { path: `${pid}/comm` }).catch(() => undefined);
    if (r && Buffer.from(r.out.data).toString() === "leaf\n") return;
    await sleep(20);
  }
  console.log(`middle: leaf (${pid}) did not start within 15 s; going on`);
}

async function leaf(g: Guest): Promise<never> {
  const middle = Number(process.argv[3]);
  const first = await g.getppid();
  console.log(`leaf: pid ${g.getpid()}, ppid ${first}`);
  let ppid = first;
  while (ppid === middle) {
    await sleep(50);
    ppid = await g.getppid();
  }
  console.log(`leaf: orphaned, my parent is now ${ppid}`);
  await sleep(hold);
  return g.exit(7);
}

const g = await Guest.connect();
// Name the process after its role, as prctl(PR_SET_NAME) does: ps, pstree and /proc show it.
await g.call("report_comm", { comm: role });
await ({ init, middle, leaf } as Record<string, (g: Guest) => Promise<never>>)[role]!(g);
