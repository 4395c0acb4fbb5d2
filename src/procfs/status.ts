/**
 * /proc/PID/status and /proc/PID/task/TID/status, in the order and format of
 * fs/proc/array.c proc_pid_status: task_state, task_mem (only with a memory image: not for
 * a zombie), task_sig, task_cap, task_seccomp, the CPU and memory-node masks and the
 * context-switch counts. The lines that describe the machine rather than the process
 * (capability bounding set, CPU masks, speculation mitigations) and the lines only newer
 * kernels print (Kthread, THP_enabled, untag_mask) follow the host kernel's own status.
 */
import { machineStatus } from "./host.js";
import { STATE_NAMES, type ProcView, type TaskView } from "./view.js";

/** seq_escape_str(m, comm, ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\"): only newline and backslash are escaped. */
export function escapeName(comm: string): string {
  return comm.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** printf("%#04o"): 0022, 0000, 0777. */
const octal4 = (n: number): string => (n === 0 ? "0000" : ("0" + n.toString(8)).padStart(4, "0"));
/** render_sigset_t: 16 hex digits, signal 1 in the lowest bit. */
export const sigset = (m: bigint): string => m.toString(16).padStart(16, "0");
/** SEQ_PUT_DEC in task_mem: kB, right-aligned in 8 columns. */
const kB = (bytes: bigint): string => `${(bytes / 1024n).toString().padStart(8)} kB`;

/** The low-order host lines printed after the context-switch counts (arch_proc_pid_thread_features). */
function hostTail(): [string, string][] {
  const m = [...machineStatus()];
  const i = m.findIndex(([k]) => k === "nonvoluntary_ctxt_switches");
  return i < 0 ? [] : m.slice(i + 1);
}

export function renderStatus(v: ProcView, t: TaskView): string {
  const host = machineStatus();
  const has = (k: string): boolean => host.has(k);
  const L: string[] = [];
  const put = (k: string, val: string | number | bigint): void => void L.push(`${k}:\t${val}`);
  put("Name", escapeName(t.comm));
  if (v.umask !== null) put("Umask", octal4(v.umask));
  put("State", STATE_NAMES[t.state]);
  put("Tgid", v.pid);
  put("Ngid", 0);
  put("Pid", t.tid);
  put("PPid", v.ppid);
  put("TracerPid", v.tracerPid);
  put("Uid", v.uids.join("\t"));
  put("Gid", [v.gids.rgid, v.gids.egid, v.gids.sgid, v.gids.fsgid].join("\t"));
  // FDSize: the descriptor table's size; a zombie has none.
  put("FDSize", v.fdSize);
  // "Trailing space shouldn't have been added in the first place." (task_state)
  put("Groups", v.gids.groups.join(" ") + " ");
  // One level of PID namespace: the reader sees the namespace's own numbers.
  put("NStgid", v.pid);
  put("NSpid", t.tid);
  put("NSpgid", v.pgid);
  put("NSsid", v.sid);
  if (has("Kthread")) put("Kthread", 0);
  const m = v.mem;
  if (m) {
    put("VmPeak", kB(m.peak));
    put("VmSize", kB(m.size));
    put("VmLck", kB(m.lck));
    put("VmPin", kB(m.pin));
    put("VmHWM", kB(m.hwm));
    put("VmRSS", kB(m.rss));
    put("RssAnon", kB(m.rssAnon));
    put("RssFile", kB(m.rssFile));
    put("RssShmem", kB(m.rssShmem));
    put("VmData", kB(m.data));
    put("VmStk", kB(m.stk));
    put("VmExe", kB(m.exe));
    put("VmLib", kB(m.lib));
    put("VmPTE", kB(m.pte));
    put("VmSwap", kB(m.swap));
    put("HugetlbPages", kB(0n));
    put("CoreDumping", 0);
    if (has("THP_enabled")) put("THP_enabled", host.get("THP_enabled")!);
    if (has("untag_mask")) put("untag_mask", host.get("untag_mask")!);
  }
  put("Threads", v.tasks.length || 1);
  // SigQ: signals queued / RLIMIT_SIGPENDING.
  put("SigQ", `${t.queued + v.shdQueued}/${(host.get("SigQ") ?? "0/0").split("/")[1]}`);
  put("SigPnd", sigset(t.pending));
  put("ShdPnd", sigset(v.shdPending));
  put("SigBlk", sigset(t.blocked));
  put("SigIgn", sigset(v.sigIgnored));
  put("SigCgt", sigset(v.sigCaught));
  // Capabilities: root's effective set is the bounding set after exec; others have none.
  const bnd = host.get("CapBnd") ?? "000001ffffffffff";
  const root = v.uids[1] === 0;
  put("CapInh", sigset(0n));
  put("CapPrm", root ? bnd : sigset(0n));
  put("CapEff", root ? bnd : sigset(0n));
  put("CapBnd", bnd);
  put("CapAmb", sigset(0n));
  put("NoNewPrivs", 0);
  put("Seccomp", 0);
  if (has("Seccomp_filters")) put("Seccomp_filters", 0);
  for (const k of ["Speculation_Store_Bypass", "SpeculationIndirectBranch", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list"])
    if (has(k)) put(k, host.get(k)!);
  put("voluntary_ctxt_switches", v.host?.get("voluntary_ctxt_switches") ?? 0);
  put("nonvoluntary_ctxt_switches", v.host?.get("nonvoluntary_ctxt_switches") ?? 0);
  for (const [k, val] of hostTail()) if (k) put(k, val);
  return L.join("\n") + "\n";
}
