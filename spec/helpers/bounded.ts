/**
 * Bounded waits for the suites: every wait in a test ends, and says what did not come
 * (a kernel, a load or a bug that never produces it must fail the test, not hang it).
 */

/** Polls `ok` (awaiting `tick` between tries) until it holds; throws "WHAT: not within MS ms" after `ms`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000, tick: () => Promise<unknown> = () => new Promise((r) => setTimeout(r, 10))): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Promise.race([tick(), new Promise((r) => setTimeout(r, Math.max(0, end - Date.now()) + 1))]);
  }
}
