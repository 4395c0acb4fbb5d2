/**
 * `blinkd procfs export DIR`: a snapshot of the namespace's /proc written as a directory tree
 * of /proc's shape, which real tools read when it is mounted over /proc (in a private mount
 * namespace). The system-wide files procps reads that the daemon does not render (uptime,
 * meminfo, loadavg, version) are copied from the host, and `self` (the reader, outside the
 * namespace) is the exporting process's own stat and status. Nothing is written outside DIR: DIR
 * must be new or empty, every path from the daemon is checked component by component, and
 * files are created exclusively under directories this command made.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SnapshotNode } from "../client/control.js";
import { PROC_NODE } from "../protocol/calls/procfs.js";
import { UsageError, connectControl, controlOptions, parse } from "./args.js";

const USAGE = "usage: blinkd procfs export [--prefix DIR] [--socket PATH] [--timeout-ms MS] DIR";

/** Host files copied into the snapshot when the daemon does not render them. */
export const HOST_FILES = ["uptime", "meminfo", "loadavg", "version", "cpuinfo", "filesystems"];

const COMPONENT = /^[A-Za-z0-9_.:-]+$/;

export class ExportError extends Error {}

function checkPath(p: string): string[] {
  const parts = p.split("/");
  for (const c of parts) if (!COMPONENT.test(c) || c === "." || c === "..") throw new ExportError(`the daemon sent an unsafe path ${JSON.stringify(p)}: refusing to write it`);
  return parts;
}

export function writeSnapshot(dir: string, nodes: SnapshotNode[], hostFiles = HOST_FILES): number {
  const root = path.resolve(dir);
  try {
    fs.mkdirSync(root, { mode: 0o755 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new ExportError(`cannot create ${root}: ${(e as Error).message}`);
    const st = fs.lstatSync(root);
    if (!st.isDirectory()) throw new ExportError(`${root} exists and is not a directory`);
    if (fs.readdirSync(root).length) throw new ExportError(`${root} is not empty: export writes into a new or empty directory`);
  }
  const dirs = new Set<string>([""]);
  const seen = new Set<string>();
  let n = 0;
  const write = (rel: string, kind: number, payload: SnapshotNode[2]): void => {
    if (rel === "") return;
    const parts = checkPath(rel);
    const parent = parts.slice(0, -1).join("/");
    if (!dirs.has(parent)) throw new ExportError(`the daemon sent ${rel} before its directory ${parent}: refusing to write it`);
    if (seen.has(rel)) throw new ExportError(`the daemon sent ${rel} twice`);
    seen.add(rel);
    const abs = path.join(root, ...parts);
    if (kind === PROC_NODE.DIR) {
      fs.mkdirSync(abs, { mode: 0o555 | 0o200 });
      dirs.add(rel);
    } else if (kind === PROC_NODE.LINK) {
      if (typeof payload !== "string") throw new ExportError(`${rel}: a link without a target`);
      fs.symlinkSync(payload, abs);
    } else if (kind === PROC_NODE.FILE) {
      if (!(payload instanceof Uint8Array)) throw new ExportError(`${rel}: a file without content`);
      fs.writeFileSync(abs, payload, { flag: "wx", mode: 0o444 });
    } else throw new ExportError(`${rel}: unknown node kind ${kind}`);
    n++;
  };
  for (const [rel, kind, payload] of nodes) write(rel, kind, payload);
  // "self" is the reader, who is not in the namespace (as for any process outside a PID
  // namespace looking into its /proc): procps insists on reading self/stat and self/status
  // for its own terminal, so the exporting process's own stand in.
  if (!seen.has("self")) {
    write("self", PROC_NODE.DIR, null);
    for (const f of ["stat", "status"]) write(`self/${f}`, PROC_NODE.FILE, fs.readFileSync(`/proc/self/${f}`));
  }
  for (const f of hostFiles) {
    if (seen.has(f)) continue;
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join("/proc", f));
    } catch {
      continue;
    }
    write(f, PROC_NODE.FILE, data);
  }
  return n;
}

export async function procfsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "export") throw new UsageError(`unknown subcommand ${JSON.stringify(sub ?? "")}\n${USAGE}`);
  const { values, positionals } = parse(rest, controlOptions, USAGE, { max: 1 });
  if (positionals.length !== 1) throw new UsageError(`give one directory to write the snapshot into\n${USAGE}`);
  const ctl = await connectControl(values);
  try {
    const nodes = await ctl.procfsSnapshot();
    const n = writeSnapshot(positionals[0]!, nodes);
    process.stderr.write(`blinkd procfs: wrote ${n} entries to ${path.resolve(positionals[0]!)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ExportError) {
      process.stderr.write(`blinkd procfs export: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    ctl.close();
  }
}
