/**
 * eventfd ping-pong between two guest processes against native eventfd ping-pong. The
 * eventfd family is not in the protocol yet: until it is, this benchmark measures only the
 * native side and says that blinkd's is skipped.
 */
import { table } from "../src/protocol/index.js";
import { loadgen } from "./lib/procs.js";
import { us, type Result } from "./lib/report.js";

export async function eventfd(quick: boolean): Promise<Result> {
  const n = quick ? 2000 : 20000;
  const native = await loadgen<{ mean_ns: number; round_trips_per_s: number }>(["nativeeventfd", n]);
  const has = table.byName.has("eventfd2");
  return {
    name: "eventfd",
    title: `eventfd ping-pong between two processes (${n} round trips; baseline: native eventfd)`,
    rows: [{ metric: "round trip", baseline: us(native.mean_ns), blinkd: "skipped", ratio: undefined, goal: "≤ 2.2×", met: undefined }],
    notes: [has ? "" : "SKIPPED: the protocol has no eventfd calls yet (engineer \"eventfd\" is adding them); only the native side ran"],
    raw: { native },
  };
}
