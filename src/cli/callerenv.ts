/**
 * The environment bin/blinkd.js's `#!` line changed for the daemon alone, given back to what
 * the caller had before any guest is started with it.
 *
 * The line sets `MALLOC_TRIM_THRESHOLD_=4194304`: glibc's malloc then keeps up to 4 MiB free at
 * the top of its heap instead of returning it to the kernel at every free past 128 KiB and
 * faulting it in again at the next allocation. Measured on a `blinkd run` dash loop of
 * `/bin/true` (bench/README.md, issue 18's eighth round): the daemon's page faults per iteration
 * 25 → 13.6, its CPU per iteration about −10%. Node.js has no mallopt, and glibc reads the
 * variable only as the process starts, so the `#!` line (env -S) is where it can be set.
 *
 * A guest must not inherit it: its environment is the caller's. The line saves the caller's
 * value first (`BLINKD_CALLER_MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_}`, empty when
 * unset), and this puts it back. Started without the line (`node bin/blinkd.js`), neither
 * variable is there and nothing changes.
 */
const SAVED = "BLINKD_CALLER_MALLOC_TRIM_THRESHOLD_";

export function restoreCallerEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (!(SAVED in env)) return;
  const was = env[SAVED];
  delete env[SAVED];
  if (was) env.MALLOC_TRIM_THRESHOLD_ = was;
  else delete env.MALLOC_TRIM_THRESHOLD_;
}
