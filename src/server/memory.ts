/** The daemon's heap, measured after a full collection so that two figures compare. */
import * as v8 from "node:v8";
import * as vm from "node:vm";

let gc: (() => void) | undefined;
let last = { at: -Infinity, heap: 0 };

/** A client may ask as often as it likes; the daemon collects at most this often. */
const MIN_INTERVAL_MS = 1000;

/**
 * Live heap bytes after a full GC. A full GC stops the daemon for milliseconds, so a figure
 * younger than a second is reused rather than measured again: a control client asking in a
 * loop cannot stall every guest.
 */
export function liveHeap(): number {
  const now = performance.now();
  if (now - last.at < MIN_INTERVAL_MS) return last.heap;
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  last = { at: performance.now(), heap: process.memoryUsage().heapUsed };
  return last.heap;
}
