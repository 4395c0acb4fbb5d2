#!/usr/bin/env node
/**
 * blink with blinkd: builds dist/blink/blink from blink's source and the patch series in
 * clients/blink/patches/ (the project keeps patches to blink, never copies of its code).
 *
 *   node clients/blink/build.mjs                 build dist/blink/blink (npm run build:blink)
 *   node clients/blink/build.mjs --upstream      also build unpatched blink: dist/blink/upstream/blink
 *   node clients/blink/build.mjs --if-source     build only when a source is here (no clone): npm test
 *   node clients/blink/build.mjs checkout DIR    a git checkout of blink with the patches as commits
 *   node clients/blink/build.mjs export DIR      that checkout's commits back into patches/
 *
 * The source is $BLINK_SRC (a directory or a tarball), else ../shared/vendor/blink-*.tar.xz
 * beside the checkout, else a clone of the pinned upstream commit when the network allows.
 * A build is skipped when its inputs (source, patches, the C client, flags) are unchanged.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dist = path.join(root, "dist/blink");
const pinned = JSON.parse(fs.readFileSync(path.join(here, "pinned.json"), "utf8"));
const patchDir = path.join(here, "patches");
const FLAGS = ["--enable-vfs"];

function say(line) {
  process.stderr.write(`build:blink: ${line}\n`);
}
function fail(line) {
  say(line);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
}

/** Where blink's source is: {kind: "dir"|"tar"|"git", path, id} or null. */
function findSource() {
  const env = process.env.BLINK_SRC;
  if (env) {
    const p = path.resolve(env);
    if (!fs.existsSync(p)) fail(`BLINK_SRC=${env}: no such file or directory`);
    return fs.statSync(p).isDirectory() ? { kind: "dir", path: p, id: `dir:${p}` } : { kind: "tar", path: p, id: `tar:${sha256(p)}` };
  }
  const vendor = path.resolve(root, "../shared/vendor");
  const tars = fs.existsSync(vendor) ? fs.readdirSync(vendor).filter((f) => /^blink-.*\.tar\.(xz|gz)$/.test(f)) : [];
  if (tars.length) {
    const p = path.join(vendor, tars.sort().at(-1));
    return { kind: "tar", path: p, id: `tar:${sha256(p)}` };
  }
  return { kind: "git", path: pinned.repository, id: `git:${pinned.commit}` };
}

function sha256(file) {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function patches() {
  return fs.existsSync(patchDir) ? fs.readdirSync(patchDir).filter((f) => f.endsWith(".patch")).sort().map((f) => path.join(patchDir, f)) : [];
}

/** A fresh copy of the source in dir (blink's tree at its root). */
function unpack(src, dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  if (src.kind === "dir") {
    run("cp", ["-a", `${src.path}/.`, dir]);
  } else if (src.kind === "tar") {
    if (src.id !== `tar:${pinned.tarballSha256}`) say(`warning: ${src.path} is not the pinned tarball (${pinned.commit}); the patches may not apply`);
    run("tar", ["-xf", src.path, "-C", dir, "--strip-components=1"]);
  } else {
    say(`no source found: cloning ${pinned.repository} at ${pinned.commit} (needs the network)`);
    run("git", ["clone", "--quiet", pinned.repository, dir]);
    run("git", ["-C", dir, "checkout", "--quiet", pinned.commit]);
    fs.rmSync(path.join(dir, ".git"), { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(dir, "blink/blink.c"))) fail(`${src.path} does not hold blink's source (no blink/blink.c)`);
}

function applyPatches(dir) {
  // dir is inside this repository's dist/: without the ceiling, git apply would take paths
  // relative to the repository's root and skip every file of the patch.
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) };
  for (const p of patches()) {
    const r = spawnSync("git", ["apply", "--whitespace=nowarn", p], { cwd: dir, env, stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) fail(`${path.relative(root, p)} does not apply to this source`);
  }
}

/** The C client as configure --enable-daemon=DIR wants it: DIR/include/*.h and DIR/libblinkd.a. */
function clientDir() {
  const dir = path.join(root, "dist/c");
  for (const f of ["include/blinkd.h", "include/blinkd_protocol.h", "libblinkd.a"]) {
    if (!fs.existsSync(path.join(dir, f))) fail(`dist/c/${f} is missing: run \`npm run build\` first`);
  }
  return dir;
}

function make(dir, configureArgs, out) {
  run("./configure", configureArgs, { cwd: dir });
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  run("make", [`-j${jobs}`, "o//blink/blink"], { cwd: dir });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // a new file renamed into place: a blink still running keeps its own (ETXTBSY otherwise)
  const tmp = `${out}.${process.pid}.tmp`;
  fs.copyFileSync(path.join(dir, "o/blink/blink"), tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
}

/** Builds one blink unless a stamp says its inputs are the same as last time. */
function build(name, src, { patched }) {
  const out = path.join(dist, name === "blink" ? "blink" : `${name}/blink`);
  const client = patched ? clientDir() : null;
  const configureArgs = [...FLAGS, ...(client ? [`--enable-daemon=${client}`] : [])];
  const h = createHash("sha256").update(src.id).update(JSON.stringify(configureArgs));
  if (patched) {
    for (const p of patches()) h.update(fs.readFileSync(p));
    for (const f of ["include/blinkd.h", "include/blinkd_protocol.h", "libblinkd.a"]) h.update(fs.readFileSync(path.join(client, f)));
  }
  const stamp = h.digest("hex");
  const stampFile = `${out}.stamp`;
  if (fs.existsSync(out) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp) {
    say(`${path.relative(root, out)} is up to date`);
    return;
  }
  const t0 = Date.now();
  const dir = path.join(dist, "build", name);
  say(`building ${path.relative(root, out)} from ${src.path}${patched ? ` with ${patches().length} patches` : ""} (a few minutes)`);
  unpack(src, dir);
  if (patched) applyPatches(dir);
  make(dir, configureArgs, out);
  fs.writeFileSync(stampFile, stamp);
  say(`built ${path.relative(root, out)} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** A git checkout of blink with the patches as commits, to change them with git. */
function checkout(dir) {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) fail(`${dir} exists and is not empty`);
  unpack(findSource(), dir);
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) };
  const git = (...a) => run("git", a, { cwd: dir, env });
  git("init", "--quiet");
  git("add", "-A");
  git("-c", "user.name=blink upstream", "-c", "user.email=upstream@localhost", "commit", "--quiet", "-m", `blink ${pinned.commit.slice(0, 7)} (upstream)`);
  git("tag", "upstream");
  if (patches().length) git("am", "--quiet", "--keep-cr", ...patches());
  say(`${dir}: upstream at tag 'upstream', ${patches().length} patches as commits; commit your changes, then \`node clients/blink/build.mjs export ${dir}\``);
}

/** The checkout's commits since 'upstream' become the patch series. */
function exportPatches(dir) {
  if (!fs.existsSync(path.join(dir, ".git"))) fail(`${dir} is not a checkout made by \`checkout\``);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blink-patches-"));
  run("git", ["format-patch", "--quiet", "--zero-commit", "--no-signature", "--no-numbered", "--full-index", "-o", tmp, "upstream..HEAD"], { cwd: dir });
  for (const p of patches()) fs.rmSync(p);
  fs.mkdirSync(patchDir, { recursive: true });
  for (const f of fs.readdirSync(tmp).sort()) fs.renameSync(path.join(tmp, f), path.join(patchDir, f));
  fs.rmSync(tmp, { recursive: true, force: true });
  say(`${patches().length} patches in ${path.relative(root, patchDir)}`);
}

const args = process.argv.slice(2);
if (args[0] === "checkout" || args[0] === "export") {
  if (!args[1]) fail(`usage: node clients/blink/build.mjs ${args[0]} DIR`);
  (args[0] === "checkout" ? checkout : exportPatches)(path.resolve(args[1]));
} else {
  const unknown = args.filter((a) => a !== "--upstream" && a !== "--if-source");
  if (unknown.length) fail(`unknown argument ${unknown[0]}; see the comment at the top of clients/blink/build.mjs`);
  const src = findSource();
  if (src.kind === "git" && args.includes("--if-source")) {
    say("no blink source here ($BLINK_SRC, ../shared/vendor/blink-*.tar.xz): the blink suites will be skipped");
    process.exit(0);
  }
  build("blink", src, { patched: true });
  if (args.includes("--upstream")) build("upstream", src, { patched: false });
}
