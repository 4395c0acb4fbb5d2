import { family } from "../schema.js";

/** ptrace_event's stop points beyond Linux's PTRACE_EVENT_* (spec/ptrace.md §4.3; C: BLINKD_PTRACE_POINT_*). */
export const PTRACE_POINT = { SYSCALL_ENTRY: 256, SYSCALL_EXIT: 257, STEP: 258 } as const;
/** ptrace_serve's out.mode: how the tracer resumed the tracee (C: BLINKD_PTRACE_MODE_*). */
export const PTRACE_MODE = { CONT: 0, SYSCALL: 1, SINGLESTEP: 2 } as const;
/** ptrace_serve's out.options for a caller that is not traced (C: BLINKD_PTRACE_OPTIONS_NOT_TRACED). */
export const PTRACE_OPTIONS = { NOT_TRACED: -1 } as const;

/** What a tracee is told by ptrace_serve and ptrace_event: a request to answer, or that it runs on (spec/ptrace.md §4). */
const served = {
  id: "u32",
  addr: "u64",
  data: "u64",
  bytes: "bytes",
  options: "i32",
  mode: "i32",
  signo: "i32",
  code: "i32",
  pid: "i32",
  uid: "u32",
  status: "i32",
} as const;

/** Cooperative ptrace: the tracer's requests, and the tracee's side that answers those only it can (spec/ptrace.md). */
export const ptrace = family({
  ptrace: {
    nr: 190,
    args: { request: "i32", pid: "i32", addr: "u64", data: "u64", bytes: "bytes" },
    out: { value: "u64", bytes: "bytes" },
    blocks: true,
    role: "guest",
    doc: "ptrace(2) from the tracer: request, pid, addr and data as Linux has them; bytes carries what data points to for SETREGS, SETFPREGS, SETREGSET and SETSIGINFO. out.value is the word PEEKTEXT/PEEKDATA/PEEKUSER read or GETEVENTMSG's message; out.bytes what GETREGS, GETFPREGS, GETREGSET or GETSIGINFO fill. A request the tracee's memory or registers answer parks until the tracee answers (EIO after 10 s). ESRCH, EPERM, EIO, EINVAL as Linux.",
  },
  ptrace_serve: {
    nr: 191,
    args: { id: "u32", result: "i64", value: "u64", bytes: "bytes" },
    out: served,
    blocks: true,
    role: "guest",
    doc: `The tracee's side: answers request id (0: none) with result (>= 0, or a negated errno), value (a PEEK's word) and bytes (registers), then takes the next. Result > 0 is a request to answer (its PTRACE_* number; out.id, addr, data, bytes); 0 means run on: out.signo (with its siginfo) is the signal to deliver now (0 for none), out.mode how the tracer resumed it (${PTRACE_MODE.CONT} CONT, ${PTRACE_MODE.SYSCALL} SYSCALL, ${PTRACE_MODE.SINGLESTEP} SINGLESTEP), out.options the tracing options (${PTRACE_OPTIONS.NOT_TRACED}: not traced). Parks while the caller is in a ptrace stop with nothing to answer.`,
  },
  ptrace_event: {
    nr: 192,
    args: { event: "i32", message: "u64" },
    out: served,
    blocks: true,
    role: "guest",
    doc: `The tracee reached a stop point only it sees: event PTRACE_EVENT_FORK/VFORK/CLONE (message: the child's pid), EXEC (the former tid), EXIT (the wait status), ${PTRACE_POINT.SYSCALL_ENTRY} syscall entry, ${PTRACE_POINT.SYSCALL_EXIT} syscall exit, ${PTRACE_POINT.STEP} a single step done. When its tracer asked for that stop (options, or the resume mode) it stops there; then it answers as ptrace_serve(0).`,
  },
});
