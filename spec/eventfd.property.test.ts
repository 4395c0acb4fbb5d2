/**
 * Property: several processes read and write one eventfd concurrently, blocking and being
 * interrupted at random; whatever interleaving happens, every unit written is read once or
 * is still in the counter: sum written == sum read + final count. An interrupted call either
 * replied EINTR and moved nothing, or completed and is counted.
 */
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { type Agent, type Reply } from "./helpers/agent.js";
import { namespace } from "./helpers/namespace.js";
import { info } from "./helpers/efd.js";

const RUNS = 8;
const PROCS = 3;

const ns = namespace();
const { track } = ns;
let workers: Agent[] = [];

beforeAll(async () => {
  const { init } = ns;
  // One eventfd per run, made before the workers fork so that all of them share every one;
  // odd runs use EFD_SEMAPHORE.
  for (let i = 0; i < RUNS; i++) await init.ok("eventfd2", { initval: 0, flags: i % 2 });
  for (let i = 0; i < PROCS; i++) workers.push(await track(init.fork()));
}, 120_000);

const op = fc.record({
  p: fc.integer({ min: 0, max: PROCS - 1 }),
  write: fc.boolean(),
  // Small values, and 2^63 so that a second one blocks (the counter's ceiling is 2^64 - 2).
  v: fc.oneof(fc.bigInt({ min: 0n, max: 5n }), fc.constant(1n << 63n)),
  interrupt: fc.boolean(),
});

const stats = { ok: 0, eintr: 0 };

it("sum written == sum read + what is left, under concurrent blocking calls and random interrupts", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), async (ops) => {
      const fd = run++ % RUNS;
      const w = workers[0]!;
      const before = (await info(w, fd)).count;
      const pending: { a: Agent; id: number; reply: Promise<Reply>; write: boolean; v: bigint }[] = [];
      let toInterrupt: (typeof pending)[number] | undefined;
      for (const o of ops) {
        const a = workers[o.p]!;
        const call = o.write ? a.send("eventfd_write", { fd, value: o.v, size: 8 }) : a.send("eventfd_read", { fd, size: 8 });
        // The interrupt lands after the next call is sent: racing it, or after it completed.
        if (toInterrupt) toInterrupt.a.abort(toInterrupt.id);
        const entry = { a, ...call, write: o.write, v: o.v };
        toInterrupt = o.interrupt ? entry : undefined;
        pending.push(entry);
      }
      // Whatever is still blocked is interrupted now; every call gets exactly one reply.
      for (const p of pending) p.a.abort(p.id);
      let written = 0n;
      let read = 0n;
      for (const p of pending) {
        const r = await p.reply;
        if (!r.ok) {
          stats.eintr++;
          expect(r.code).toBe("EINTR");
          continue;
        }
        expect(r.result).toBe(8);
        stats.ok++;
        if (p.write) written += p.v;
        else read += BigInt(r.out!.value as bigint);
      }
      const after = (await info(w, fd)).count;
      expect(after).toBe(before + written - read);
      expect((await info(w, fd)).waiters).toBe(0);
    }),
    { numRuns: 16, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
  );
  // The runs did exercise both outcomes of an interrupt.
  expect(stats.eintr).toBeGreaterThan(0);
  expect(stats.ok).toBeGreaterThan(0);
  process.stderr.write(`eventfd property: ${stats.ok} calls completed, ${stats.eintr} interrupted\n`);
}, 300_000);
