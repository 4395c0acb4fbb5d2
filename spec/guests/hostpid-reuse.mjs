// Runs as PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc, root), so that
// a host pid can be made to be reused (/proc/sys/kernel/ns_last_pid): a blinkd daemon, a
// native process whose host process dies unreported, a new host process given the same
// pid, and a kill of the native process. The daemon must spare the newcomer, and still
// signal a native process whose host process lives. Prints one line per fact.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { ClientConnection } from "../../dist/src/client/connection.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/blinkd.js");
const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-reuse-"));
const daemon = spawn(process.execPath, [BIN, "serve", "--prefix", prefix], { stdio: ["ignore", "ignore", "pipe"] });
await new Promise((resolve) => createInterface({ input: daemon.stderr }).on("line", (l) => l.includes("serving at") && resolve()));
const socket = path.join(prefix, "blinkd.sock");

const sleeper = () => {
  const p = spawn("sleep", ["1000"], { stdio: "ignore" });
  p.ended = new Promise((resolve) => p.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`)));
  return p;
};
const settle = (ms) => new Promise((r) => setTimeout(r, ms));
/** A host process that proves it is a guest's (spec/protocol.md §7.3): it holds the proof file it is told to open. */
const prover = () => {
  const script = `require("node:readline").createInterface({ input: process.stdin }).on("line", (p) => { require("node:fs").openSync(p, "r"); process.stdout.write("ok\\n"); }); setInterval(() => {}, 1e6);`;
  const p = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "ignore"] });
  p.ended = new Promise((resolve) => p.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`)));
  p.prove = async (nonce) => {
    const f = path.join(os.tmpdir(), `blinkd-proof-${nonce}`);
    fs.writeFileSync(f, "");
    const ok = new Promise((resolve) => p.stdout.once("data", resolve));
    p.stdin.write(f + "\n");
    await ok;
    fs.rmSync(f, { force: true });
  };
  return p;
};

const init = await ClientConnection.open(socket);
await init.hello("guest", "init");
await init.call("register", { hostpid: sleeper().pid, exe: "/init", argv: ["init"], delivery: 0 });

/** A child of init that claims its pid with `host` as its host process and leaves emulation. */
async function nativeChild(host) {
  const { result: pid, out } = await init.call("fork", {});
  const c = await ClientConnection.open(socket);
  const h = await c.hello("guest", "native");
  await host.prove(h.nonce);
  await c.call("claim", { token: out.token, hostpid: host.pid });
  await c.call("exec_native", { exe: "/bin/sleep", argv: ["sleep", "1000"] });
  c.close();
  return pid;
}

// A native process whose host process lives: kill reaches it.
const live = prover();
const livePid = await nativeChild(live);
await init.call("kill", { pid: livePid, sig: 15 });
console.log(`native process, host alive: host process ended by ${await Promise.race([live.ended, settle(2000).then(() => "nothing")])}`);

// A native process whose host process died unreported, its host pid then reused.
const gone = prover();
const gonePid = await nativeChild(gone);
// Host start times count in clock ticks (10 ms): a newcomer started in the same tick could
// not be told apart, by blinkd or by Linux's own pidfd-less tools; real reuse comes much later.
await settle(100);
gone.kill("SIGKILL");
await gone.ended;
fs.writeFileSync("/proc/sys/kernel/ns_last_pid", String(gone.pid - 1));
const newcomer = sleeper();
console.log(`host pid reused: ${newcomer.pid === gone.pid}`);
await init.call("kill", { pid: gonePid, sig: 15 });
console.log(`native process, host pid reused: the newcomer ${await Promise.race([newcomer.ended.then((s) => `was ended by ${s}`), settle(1000).then(() => "lives")])}`);

newcomer.kill("SIGKILL");
init.close();
daemon.kill("SIGTERM");
process.exit(0);
