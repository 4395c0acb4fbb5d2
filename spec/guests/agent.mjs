// A guest process driven by a test over stdin/stdout, one JSON object per line.
// Commands: {id, op: "call", name, args, abortable?} → {id, ok, result, out} | {id, err, code, detail}
//           {op: "abort", target}  aborts call `target` (sends the interrupt message)
//           {op: "exit", status}   exit_group then process exit
//           {op: "close"}          close the connection, keep the host process
//           {op: "hang"}           stop reading commands (to be killed)
//           {op: "open", count}    opens `count` host descriptors on /dev/null and keeps them
// 64-bit values travel as {"$big": "123"}, binaries as {"$bytes": "<base64>"}.
import { openSync } from "node:fs";
import { createInterface } from "node:readline";
import { Guest } from "../../dist/src/client/guest.js";
import { SyscallError } from "../../dist/src/client/errors.js";

const enc = (v) =>
  JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? { $big: x.toString() } : x && x.type === "Buffer" && Array.isArray(x.data) ? { $bytes: Buffer.from(x.data).toString("base64") } : x));
const dec = (s) =>
  JSON.parse(s, (_k, x) =>
    x && typeof x === "object" && typeof x.$big === "string" ? BigInt(x.$big) : x && typeof x === "object" && typeof x.$bytes === "string" ? Buffer.from(x.$bytes, "base64") : x,
  );
const say = (o) => process.stdout.write(enc(o) + "\n");

let g;
try {
  g = await Guest.connect({ execed: process.env.BLINKD_AGENT_FORK !== "1" });
} catch (e) {
  say({ ready: false, error: String(e?.message ?? e) });
  process.exit(3);
}
say({ ready: true, pid: g.getpid(), tid: g.proxy.getSnapshot().context.tid, hostpid: process.pid });
const aborts = new Map();
g.onEvent((kind, fields) => say({ event: kind, fields }));

createInterface({ input: process.stdin }).on("line", async (line) => {
  const m = dec(line);
  switch (m.op) {
    case "call": {
      const ac = new AbortController();
      aborts.set(m.id, ac);
      try {
        // A handler installed through the agent: the Guest records it (so SA_RESTART is
        // honoured); its deliveries are printed as events.
        if (m.name === "rt_sigaction" && m.args.handler === 2) {
          await g.sigaction(m.args.signo, () => {}, m.args.flags ?? 0);
          say({ id: m.id, ok: true, result: 0, out: {} });
          break;
        }
        const r = await g.call(m.name, m.args ?? {}, { signal: ac.signal });
        say({ id: m.id, ok: true, result: r.result, big: r.big, out: r.out });
      } catch (e) {
        if (e instanceof SyscallError) say({ id: m.id, ok: false, code: e.code, errno: e.errno, detail: e.detail });
        else say({ id: m.id, ok: false, code: "GONE", detail: String(e?.message ?? e) });
      } finally {
        aborts.delete(m.id);
      }
      break;
    }
    case "abort":
      aborts.get(m.target)?.abort();
      break;
    case "exit":
      await g.exit(m.status);
      break;
    case "close":
      g.close();
      say({ id: m.id, ok: true, result: 0 });
      break;
    case "hang":
      break;
    case "open": {
      // grows this host process's descriptor table (what FDSize reports for a host process)
      const fds = Array.from({ length: m.count }, () => openSync("/dev/null", "r"));
      say({ id: m.id, ok: true, result: Math.max(...fds) });
      break;
    }
  }
});
