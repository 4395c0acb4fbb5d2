import { family } from "../schema.js";

/** proc_read's result: what kind of node the path is (C: BLINKD_PROC_NODE_*). */
export const PROC_NODE = { FILE: 0, LINK: 1, DIR: 2 } as const;

/** procfs: reading /proc as the namespace sees it, and what only the guest can report for it. */
export const procfs = family({
  proc_read: {
    nr: 160,
    args: { path: "str" },
    out: { data: "bytes", target: "str", entries: "strs" },
    blocks: false,
    role: "guest",
    doc: `Renders a path under /proc ('' is /proc; 'self' and 'thread-self' are the caller) in Linux's format. Returns ${PROC_NODE.FILE} for a file (out.data), ${PROC_NODE.LINK} for a symbolic link (out.target), ${PROC_NODE.DIR} for a directory (out.entries). ENOENT for a path that does not exist.`,
  },
  report_environ: {
    nr: 161,
    args: { environ: "bytes" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "The process's environment block (NUL-terminated K=V strings, at most 1 MiB), as /proc/PID/environ shows it; execve forgets it.",
  },
  report_cwd: {
    nr: 162,
    args: { cwd: "str" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "chdir(2)/fchdir(2) succeeded: the new working directory, an absolute path (/proc/PID/cwd). EINVAL for a relative path.",
  },
  report_gids: {
    nr: 163,
    args: { rgid: "u32", egid: "u32", sgid: "u32", fsgid: "u32", groups: "i32s" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "The process's group ids after setresgid/setgroups and the like: real, effective, saved, filesystem, and the supplementary groups (at most NGROUPS_MAX 65536), as /proc/PID/status shows them.",
  },
  report_mem: {
    nr: 164,
    args: {
      size: "u64",
      rss: "u64",
      rssAnon: "u64",
      rssFile: "u64",
      rssShmem: "u64",
      data: "u64",
      stk: "u64",
      exe: "u64",
      lib: "u64",
      lck: "u64",
      pin: "u64",
      pte: "u64",
      swap: "u64",
    },
    out: {},
    blocks: false,
    role: "guest",
    doc: "The process's memory figures in bytes (VmSize, VmRSS, RssAnon, RssFile, RssShmem, VmData, VmStk, VmExe, VmLib, VmLck, VmPin, VmPTE, VmSwap); the daemon keeps the peaks (VmPeak, VmHWM). execve forgets them.",
  },
  report_comm: {
    nr: 165,
    args: { comm: "str" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "prctl(PR_SET_NAME) or a write to /proc/self/comm: the calling thread's name, cut to 15 bytes (TASK_COMM_LEN - 1). The leader's name is the process's comm.",
  },
});
