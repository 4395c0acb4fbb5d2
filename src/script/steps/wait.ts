/** The wait family: wait4, waitpid, wait, waitid. */
import { IDTYPES, CLD_CODES, WAIT_FLAGS, parseFlags, showFlags, showStatus, showUid, signalName } from "../names.js";
import { type StepDef, arity, pidArg, resolve, err } from "./common.js";

function waitLike(call: string, usage: string, fixed?: [string, string]): StepDef {
  return {
    usage,
    doc: `${call}(2): ${fixed ? "wait4(-1, 0)" : "PID is -1 (any child), 0 (the caller's group), a name or number (that child), -name or -number (that group)"}; OPTIONS are WNOHANG|WUNTRACED|WCONTINUED|__WALL|__WCLONE|__WNOTHREAD or 0. Prints the pid and the status.`,
    parse(args) {
      const a = fixed ?? args;
      const bad = fixed ? arity(args, 0, 0, usage) : arity(args, 1, 2, usage);
      if (bad) return bad;
      const pid = pidArg(a[0], "PID");
      if (typeof pid === "string") return pid;
      const options = parseFlags(a[1] ?? "0", WAIT_FLAGS);
      if (typeof options === "string") return options;
      return {
        syscall: 61,
        command: (env) => ["wait4", resolve(pid, env), options],
        show: (env) => (fixed ? `${call}()` : `${call}(${resolve(pid, env)}, ${showFlags(options, WAIT_FLAGS)})`),
        format: (r) => (r.result < 0 ? err(r) : r.result === 0 ? "0" : `${r.result} ${showStatus(r.extra[0] ?? 0)}`),
      };
    },
  };
}

export const WAIT_STEPS: Record<string, StepDef> = {
  wait4: waitLike("wait4", "wait4 PID OPTIONS"),
  waitpid: waitLike("waitpid", "waitpid PID OPTIONS"),
  wait: waitLike("wait", "wait", ["-1", "0"]),
  waitid: {
    usage: "waitid IDTYPE ID OPTIONS",
    doc: "waitid(2): IDTYPE P_ALL, P_PID, P_PGID or P_PIDFD (or a number); ID a number, a name or 0 (for P_PIDFD a descriptor); OPTIONS WEXITED|WSTOPPED|WCONTINUED|WNOHANG|WNOWAIT|__WALL|__WCLONE|__WNOTHREAD. Prints the result and the siginfo fields.",
    parse(args) {
      const bad = arity(args, 3, 3, this.usage);
      if (bad) return bad;
      const idtype = parseFlags(args[0]!, IDTYPES);
      if (typeof idtype === "string") return idtype;
      const id = pidArg(args[1], "ID");
      if (typeof id === "string") return id;
      const options = parseFlags(args[2]!, WAIT_FLAGS);
      if (typeof options === "string") return options;
      const idName = Object.keys(IDTYPES).find((k) => IDTYPES[k] === idtype) ?? String(idtype);
      return {
        syscall: 247,
        command: (env) => ["waitid", idtype, resolve(id, env), options],
        show: (env) => `waitid(${idName}, ${resolve(id, env)}, ${showFlags(options, WAIT_FLAGS)})`,
        format: (r) => {
          if (r.result < 0) return err(r);
          const [pid, uid, signo, status, code] = r.extra as number[];
          // si_status is the exit code for CLD_EXITED, a signal number otherwise.
          const st = code === 1 || code === 0 ? String(status) : signalName(status!);
          return `0 {si_pid ${pid}, si_uid ${pid ? showUid(uid!) : uid}, si_signo ${signo ? signalName(signo) : 0}, si_code ${CLD_CODES[code!] ?? code}, si_status ${st}}`;
        },
      };
    },
  },
};
