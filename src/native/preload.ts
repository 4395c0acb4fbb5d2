/**
 * Where the preload library for native commands is (built by clients/c/build.mjs), and
 * which commands get it: every program but Node.js, whose guests speak for themselves
 * through the TypeScript client.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** dist/c/libblinkd-preload.so, next to this module's dist/src/native/. */
export const PRELOAD_LIBRARY = path.resolve(import.meta.dirname, "../../c/libblinkd-preload.so");

/** A command that is Node.js (by path or name) is a TypeScript guest, not a native one. */
export function isNodeCommand(cmd: string): boolean {
  if (cmd === process.execPath) return true;
  return /^node(js)?(\d+)?$/.test(path.basename(cmd));
}

/**
 * The environment additions that make CMD a native guest: LD_PRELOAD (first in the list,
 * so its getpid wins), or nothing for Node.js or when the library was not built.
 */
export function nativeEnv(cmd: string, env: NodeJS.ProcessEnv): { native: boolean; env: NodeJS.ProcessEnv } {
  if (isNodeCommand(cmd) || !fs.existsSync(PRELOAD_LIBRARY)) return { native: false, env: {} };
  const rest = (env.LD_PRELOAD ?? "").split(/[: ]/).filter((x) => x && x !== PRELOAD_LIBRARY);
  return { native: true, env: { LD_PRELOAD: [PRELOAD_LIBRARY, ...rest].join(":") } };
}
