/**
 * Tests that need root: a real PID namespace (unshare --pid), chown to another user,
 * setresuid to any uid. Without root they are skipped, and the file says so on stderr, never
 * silently; what blinkd can be held to without root is still checked where a test can.
 */
export const isRoot = process.getuid?.() === 0;

/** True (skip) when not root, after a SKIPPED warning naming what is not checked. */
export function withoutRoot(what: string): boolean {
  if (!isRoot) console.warn(`SKIPPED without root: ${what}`);
  return !isRoot;
}
