/** procfs: rendering /proc for a guest, and the facts only the guest knows, which it reports. */
import { E, errno } from "../protocol/errno.js";
import { PROC_NODE, type procfs } from "../protocol/calls/procfs.js";
import { reportInfo, reportMem, setComm } from "../actors/facts.js";
import { render } from "../procfs/tree.js";
import type { Handlers } from "./types.js";

/** An environment block larger than this is refused: a bound on what the daemon holds per process, inside one frame. */
export const ENVIRON_MAX = (1 << 20) - 4096;
/** NGROUPS_MAX (include/uapi/linux/limits.h). */
export const NGROUPS_MAX = 65536;
/** PATH_MAX, terminating NUL included (include/uapi/linux/limits.h). */
export const PATH_MAX = 4096;

export const procfsCalls: Handlers<typeof procfs> = {
  proc_read: (ctx, { path }) => {
    if (Buffer.byteLength(path) >= PATH_MAX) return errno(E.ENAMETOOLONG, `proc_read.path: longer than PATH_MAX (${PATH_MAX})`);
    const n = render(ctx.k, path, { pid: ctx.caller.pid, tid: ctx.caller.tid });
    if ("_tag" in n) return n;
    switch (n.kind) {
      case "file":
        return { result: PROC_NODE.FILE, out: { data: n.data, target: "", entries: [] } };
      case "link":
        return { result: PROC_NODE.LINK, out: { data: Buffer.alloc(0), target: n.target, entries: [] } };
      case "dir":
        return { result: PROC_NODE.DIR, out: { data: Buffer.alloc(0), target: "", entries: [...n.entries] } };
    }
  },
  report_environ: (ctx, { environ }) => {
    if (environ.length > ENVIRON_MAX) return errno(E.E2BIG, `report_environ.environ: ${environ.length} bytes, more than the ${ENVIRON_MAX} the daemon keeps`);
    reportInfo(ctx.k, ctx.caller.pid, { environ: Buffer.from(environ) });
    return 0;
  },
  report_cwd: (ctx, { cwd }) => {
    if (!cwd.startsWith("/")) return errno(E.EINVAL, `report_cwd.cwd: ${JSON.stringify(cwd)} is not an absolute path`);
    if (Buffer.byteLength(cwd) >= PATH_MAX) return errno(E.ENAMETOOLONG, `report_cwd.cwd: longer than PATH_MAX (${PATH_MAX})`);
    reportInfo(ctx.k, ctx.caller.pid, { cwd });
    return 0;
  },
  report_gids: (ctx, { rgid, egid, sgid, fsgid, groups }) => {
    // setgroups(2): EINVAL when size exceeds NGROUPS_MAX; gid_t is unsigned, so a negative entry is no gid.
    if (groups.length > NGROUPS_MAX) return errno(E.EINVAL, `report_gids.groups: ${groups.length} groups, more than NGROUPS_MAX (${NGROUPS_MAX})`);
    const bad = groups.findIndex((g) => g < 0);
    if (bad >= 0) return errno(E.EINVAL, `report_gids.groups[${bad}]: ${groups[bad]} is not a gid`);
    // setgroups stores the list sorted (groups_sort), and /proc shows it in that order.
    const sorted = [...groups].sort((a, b) => a - b);
    reportInfo(ctx.k, ctx.caller.pid, { gids: { rgid, egid, sgid, fsgid, groups: sorted } });
    return 0;
  },
  report_mem: (ctx, m) => {
    return reportMem(ctx.k, ctx.caller.pid, m) ? 0 : errno(E.ESRCH);
  },
  report_comm: (ctx, { comm }) => {
    // __set_task_comm: strscpy_pad into TASK_COMM_LEN (16) bytes: at most 15 bytes, cut at a NUL.
    const cut = cut15(comm.split("\0")[0]!);
    setComm(ctx.k, ctx.caller.pid, ctx.caller.tid, cut);
    return 0;
  },
};

/** The first 15 bytes of a name, not splitting a UTF-8 character. */
function cut15(s: string): string {
  const b = Buffer.from(s, "utf8");
  return b.length <= 15 ? s : b.subarray(0, 15).toString("utf8").replace(/\uFFFD+$/, "");
}
