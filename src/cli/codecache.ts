/**
 * Runs the command's bundle (dist/src/blinkd/main.cjs, package.json "bundle") with V8's code
 * cache beside it. Node.js 20 has no compile cache for ES modules, and compiling the bundle
 * (Effect, xstate, the daemon) was the largest part of every command's start-up; a
 * vm.Script's cachedData gives V8 the bytecode of the bundle's top level and of every
 * function a `blinkd run` calls (bench/README.md, eleventh round, 20e).
 *
 * The cache is made at build (`npm run build`, last step): `node dist/src/cli/primecache.js`
 * runs `blinkd run -- /bin/true` with bin/blinkd.js's Node.js flags and writes what V8
 * compiled at its exit. V8 accepts a cache only for the same Node.js version, V8 flags and
 * source length, and compiles as usual otherwise (a `node bin/blinkd.js` without the #!
 * line's flags, or a bundle made without the build's last step: `npm run bundle` removes
 * the folder, cache included).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { createRequire } from "node:module";

const BUNDLE = path.resolve(import.meta.dirname, "../blinkd/main.cjs");
export const CACHE = `${BUNDLE}.cache`;
/** Set by the build's priming run only: write the cache at exit. */
export const WRITE = "BLINKD_WRITE_CODE_CACHE";

/** The bundle as Node.js compiles a CommonJS file, from the cache when V8 accepts it (`cachedDataRejected` false). */
export function compileBundle(): vm.Script {
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(CACHE);
  } catch {
    cachedData = undefined;
  }
  const source = fs.readFileSync(BUNDLE, "utf8");
  // Node.js's own CommonJS wrapper, on the first line: the bundle's line numbers stay its own.
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
}

/** Runs the command's bundle (bin/blinkd.js). */
export function runBundle(): void {
  const write = process.env[WRITE] === "1";
  delete process.env[WRITE];
  const script = compileBundle();
  if (write) process.once("exit", () => fs.writeFileSync(CACHE, script.createCachedData()));
  const module = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
}
