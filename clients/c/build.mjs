#!/usr/bin/env node
/**
 * Builds the C side with nothing but the machine's C compiler (`cc`, or $CC), as the last
 * step of `npm run build`: regenerates the protocol header and the call table from the
 * compiled schema, then compiles
 *   dist/c/libblinkd.a            the C client (clients/c/blinkd.c + the generated calls)
 *   dist/c/libblinkd-preload.so   the preload library for unmodified programs
 *   dist/c/blinkd-ctest           the C client's test program
 *   dist/c/blinkd-spawn           posix_spawn's stand-in for a program that will not load the preload
 *   dist/c/include/               blinkd.h and blinkd_protocol.h beside libblinkd.a: the
 *                                 directory blink's `./configure --enable-daemon=DIR` takes
 * A target is rebuilt only when one of its inputs is newer.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const src = path.join(root, "clients/c");
const out = path.join(root, "dist/c");
const gen = path.join(out, "gen");
const cc = process.env.CC || "cc";

const { writeGenerated } = await import(path.join(root, "dist/src/protocol/cheader.js"));
writeGenerated(gen);

const mtime = (f) => fs.statSync(f).mtimeMs;
const headers = [path.join(gen, "blinkd_protocol.h"), path.join(src, "blinkd.h")].filter((f) => fs.existsSync(f));
const lib = [path.join(src, "blinkd.c"), path.join(gen, "blinkd_calls.c")];
const cflags = ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fPIC", `-I${gen}`, `-I${src}`];

function build(target, inputs, args) {
  const file = path.join(out, target);
  const deps = [...inputs, ...headers, fileURLToPath(import.meta.url)];
  if (fs.existsSync(file) && deps.every((d) => mtime(d) <= mtime(file))) return;
  try {
    execFileSync(cc, [...cflags, ...args(file)], { stdio: ["ignore", "inherit", "inherit"] });
  } catch (e) {
    if (e.code === "ENOENT") throw new Error(`building the C client needs a C compiler: ${cc} was not found (install gcc, or set CC)`);
    throw new Error(`${cc} failed to build ${target}`);
  }
}

fs.mkdirSync(out, { recursive: true });
// The static library: objects then ar, both from the compiler's toolchain.
build("libblinkd.a", lib, (file) => {
  const objs = lib.map((f) => path.join(out, path.basename(f, ".c") + ".o"));
  lib.forEach((f, i) => execFileSync(cc, [...cflags, "-c", f, "-o", objs[i]], { stdio: "inherit" }));
  fs.rmSync(file, { force: true });
  execFileSync("ar", ["rcs", file, ...objs], { stdio: "inherit" });
  return ["-fsyntax-only", lib[0]];
});
const preload = path.join(src, "preload");
if (fs.existsSync(preload)) {
  const pre = fs.readdirSync(preload).filter((f) => f.endsWith(".c")).map((f) => path.join(preload, f));
  const preHeaders = fs.readdirSync(preload).filter((f) => f.endsWith(".h")).map((f) => path.join(preload, f));
  build("libblinkd-preload.so", [...pre, ...preHeaders, ...lib], (file) => [
    "-shared",
    "-fvisibility=hidden",
    // The preload interposes these: the client inside it uses the host's (masks.c, threads.c).
    "-DBLINKD_SIGPROCMASK=blinkd_host_sigprocmask",
    "-DBLINKD_PPOLL=blinkd_host_ppoll",
    // Bound at load, once, in the first image: a fork child would otherwise resolve each
    // symbol it is the first to call (connect, memfd_create, …) and copy the GOT's pages.
    "-Wl,-z,now",
    "-Wl,-z,relro",
    "-o",
    file,
    ...pre,
    ...lib,
    "-ldl",
  ]);
}
// The client as an install tree for blink's ./configure --enable-daemon=dist/c.
fs.mkdirSync(path.join(out, "include"), { recursive: true });
for (const h of headers) {
  const to = path.join(out, "include", path.basename(h));
  if (!fs.existsSync(to) || fs.readFileSync(to, "utf8") !== fs.readFileSync(h, "utf8")) fs.copyFileSync(h, to);
}
// The preload's posix_spawn runs a program that will not load the preload through this (fork.c).
build("blinkd-spawn", [path.join(src, "spawn/blinkd-spawn.c")], (file) => ["-o", file, path.join(src, "spawn/blinkd-spawn.c")]);
build("blinkd-ctest", [path.join(src, "test/ctest.c"), ...lib], (file) => ["-pthread", "-o", file, path.join(src, "test/ctest.c"), ...lib]);
