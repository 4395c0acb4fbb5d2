/**
 * The /proc tree the daemon renders: one path (relative to /proc) to a file, a symbolic
 * link or a directory, and the walk of every path for `blinkd procfs export`. Lookups go
 * by number to one process; only the root listing and the walk visit every process.
 */
import type { Kernel } from "../actors/kernel.js";
import { E, errno, type Errno } from "../protocol/errno.js";
import { fdsOf, renderFdinfo } from "./fdinfo.js";
import { renderStat, renderStatm } from "./stat.js";
import { renderStatus } from "./status.js";
import { processCounters, renderSysStat } from "./sysstat.js";
import { renderCmdline, renderComm, renderEnviron } from "./text.js";
import { pidList, viewOf, type ProcView, type TaskView } from "./view.js";
import { ownerMayOpen, ptraceMayRead } from "./access.js";
import { hostMaps } from "./host.js";
import { PROC_NODE } from "../protocol/calls/procfs.js";

export type Node =
  | { readonly kind: "file"; readonly data: Buffer }
  | { readonly kind: "link"; readonly target: string }
  | { readonly kind: "dir"; readonly entries: readonly string[] };

/** A node's kind as proc_read and procfs_snapshot give it (the protocol's PROC_NODE codes). */
export const NODE_KIND = { file: PROC_NODE.FILE, link: PROC_NODE.LINK, dir: PROC_NODE.DIR } as const;

/** Who is reading: "self" and "thread-self" resolve to the caller (proc_self_get_link). */
export interface Reader {
  readonly pid: number;
  readonly tid: number;
}

const PID_FILES = ["cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "maps", "stat", "statm", "status", "task"] as const;
const TASK_FILES = ["cmdline", "comm", "environ", "maps", "stat", "statm", "status"] as const;
/** An emulated guest's directories lack maps (ProcView.emulated). */
const listed = (v: ProcView, names: readonly string[]): readonly string[] => (v.emulated ? names.filter((n) => n !== "maps") : names);

const file = (data: string | Buffer): Node => ({ kind: "file", data: typeof data === "string" ? Buffer.from(data, "utf8") : data });
const dir = (entries: readonly string[]): Node => ({ kind: "dir", entries });
const noent = (path: string): Errno => errno(E.ENOENT, `/proc/${path}: no such file or directory`);

const num = (s: string | undefined): number | undefined => (s !== undefined && /^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : undefined);

const denied = (path: string, why: string): Errno => errno(E.EACCES, `/proc/${path}: permission denied (${why})`);

function taskFile(v: ProcView, t: TaskView, name: string, whole: boolean, may: Access): Node | Errno | undefined {
  switch (name) {
    case "stat":
      return file(renderStat(v, t, whole));
    case "status":
      return file(renderStatus(v, t));
    case "statm":
      return file(renderStatm(v));
    case "cmdline":
      return file(renderCmdline(v));
    case "comm":
      return file(renderComm(t));
    case "environ":
      // A zombie has no mm: task_dump_owner makes its files root's, and environ is 0400, so the
      // open's permission check refuses everyone but root (CAP_DAC_OVERRIDE), even the zombie's
      // own user; root gets to environ_open → proc_mem_open → mm_access, which finds no mm: ESRCH.
      if (!v.mem) return may.root() ? errno(E.ESRCH, `/proc/${v.pid}/environ: the process has no memory image (a zombie)`) : denied(`${v.pid}/environ`, "a zombie's files are root's (task_dump_owner)");
      if (!may.ptrace()) return denied(`${v.pid}/environ`, "ptrace_may_access: another user's process");
      return file(renderEnviron(v));
    case "maps":
      // proc_maps_open → proc_mem_open → mm_access: a zombie has no mm and its maps reads
      // empty (for any reader); another user's live process is EACCES (ptrace_may_access).
      // A native guest's map is its host process's; an emulated one's (blink) is only
      // blink's, which serves none (spec/blink.md): not here.
      if (v.emulated) return undefined;
      if (!v.mem) return file("");
      if (!may.ptrace()) return denied(`${v.pid}/maps`, "ptrace_may_access: another user's process");
      return file(hostMaps(v.hostpid) ?? Buffer.alloc(0));
  }
  return undefined;
}

/** What the reader may do with one process's restricted files (access.ts); everything, for a reader from outside the namespace (control). */
interface Access {
  ptrace(): boolean;
  owner(): boolean;
  /** The reader has root's capabilities (euid 0), past any file mode. */
  root(): boolean;
}

function accessOf(k: Kernel, target: ProcView, reader: Reader | undefined): Access {
  if (!reader || reader.pid === target.pid) return { ptrace: () => true, owner: () => true, root: () => true };
  let r: ProcView | undefined | null = null;
  const rv = (): ProcView | undefined => (r === null ? (r = viewOf(k, reader.pid)) : r);
  const root = (): boolean => !!rv() && rv()!.uids[1] === 0;
  return {
    ptrace: () => !!rv() && ptraceMayRead(rv()!, target),
    // task_dump_owner: a zombie's (no mm) fd/ and fdinfo/ are root's, not its user's.
    owner: () => (target.mem ? !!rv() && ownerMayOpen(rv()!, target) : root()),
    root,
  };
}

/** /proc/N/…: N is a process, or (as Linux allows, unlisted) a thread of one. */
function pidNode(k: Kernel, n: number, rest: string[], path: string, views?: Views, reader?: Reader): Node | Errno {
  const pid = k.procs.has(n) ? n : k.threads.get(n)?.getSnapshot().context.pid;
  const v = pid === undefined ? undefined : views ? (views.get(pid) ?? views.set(pid, viewOf(k, pid, reader)).get(pid)) : viewOf(k, pid, reader);
  if (!v) return noent(path);
  const self = v.tasks.find((t) => t.tid === n) ?? v.tasks[0];
  if (!self) return noent(path);
  const [name, arg, sub, extra] = rest;
  if (name === undefined) return dir(listed(v, PID_FILES));
  const may = accessOf(k, v, reader);
  switch (name) {
    case "exe":
    case "cwd":
      // proc_exe_link / proc_cwd_link: proc_fd_access_allowed → ptrace_may_access, before anything else.
      if (arg === undefined && !may.ptrace()) return denied(path, "ptrace_may_access: another user's process");
      // proc_exe_link: ENOENT once the memory image is gone (a zombie).
      if (name === "exe") return arg === undefined && v.mem ? { kind: "link", target: v.exe } : noent(path);
      return arg === undefined && v.cwd !== null ? { kind: "link", target: v.cwd } : noent(path);
    case "fd":
    case "fdinfo": {
      // proc_fd_permission: the directory is the task owner's (0500); fdinfo/N also needs ptrace_may_access.
      if (!may.owner()) return denied(path, "the directory is mode 0500, owned by another user");
      if (name === "fdinfo" && arg !== undefined && !may.ptrace()) return denied(path, "ptrace_may_access: another user's process");
      const fds = v.mem ? fdsOf(k, v.pid) : [];
      if (arg === undefined) return dir(fds.map((f) => String(f.fd)));
      const f = fds.find((x) => String(x.fd) === arg);
      if (!f || sub !== undefined) return noent(path);
      return name === "fd" ? { kind: "link", target: f.target } : file(renderFdinfo(f));
    }
    case "task": {
      if (arg === undefined) return dir(v.tasks.map((t) => String(t.tid)));
      const t = v.tasks.find((x) => String(x.tid) === arg);
      if (!t) return noent(path);
      if (sub === undefined) return dir(listed(v, TASK_FILES));
      return (extra === undefined && taskFile(v, t, sub, false, may)) || noent(path);
    }
  }
  return (arg === undefined && taskFile(v, self, name, true, may)) || noent(path);
}

/**
 * Views built once for a walk of many paths: a view reads its host process's status,
 * environ and cwd, and each process has some twenty paths (a walk of 1,000 processes was
 * 60,000 host reads without it).
 */
type Views = Map<number, ProcView | undefined>;

/** Renders one path under /proc ("" is /proc itself). */
export function render(k: Kernel, path: string, reader?: Reader, views?: Views): Node | Errno {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) return errno(E.EINVAL, `proc_read.path: ${JSON.stringify(path)} may not contain "." or ".." components`);
  const [head, ...rest] = parts;
  if (head === undefined) {
    const fixed = reader ? ["self", "thread-self", "stat", "sys"] : ["stat", "sys"];
    return dir([...fixed, ...pidList(k).map(String)]);
  }
  if (head === "self" && reader) return rest.length === 0 ? { kind: "link", target: String(reader.pid) } : render(k, [reader.pid, ...rest].join("/"), reader);
  if (head === "thread-self" && reader)
    return rest.length === 0 ? { kind: "link", target: `${reader.pid}/task/${reader.tid}` } : render(k, [reader.pid, "task", reader.tid, ...rest].join("/"), reader);
  if (head === "stat" && rest.length === 0) return file(renderSysStat(processCounters(k)));
  if (head === "sys") {
    const p = rest.join("/");
    if (p === "") return dir(["kernel"]);
    if (p === "kernel") return dir(["pid_max"]);
    // The namespace's pid_max: ps sizes its PID column from it.
    if (p === "kernel/pid_max") return file(`${k.config.pidMax}\n`);
    return noent(path);
  }
  const n = num(head);
  return n === undefined ? noent(path) : pidNode(k, n, rest, path, views, reader);
}

/** Every path of the tree, parents before children, as [path, node]; threads are not listed at the top (Linux hides them). */
export function walk(k: Kernel): [string, Node][] {
  const out: [string, Node][] = [];
  const views: Views = new Map();
  const visit = (p: string): void => {
    const n = render(k, p, undefined, views);
    if ("_tag" in n) return; // gone while walking: a zombie's links
    out.push([p, n]);
    if (n.kind === "dir") for (const e of n.entries) visit(p === "" ? e : `${p}/${e}`);
  };
  visit("");
  return out;
}
