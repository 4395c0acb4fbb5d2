import { family } from "../schema.js";

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
    doc: "The tracee's side: answers request id (0: none) with result (>= 0, or a negated errno), value (a PEEK's word) and bytes (registers), then takes the next. Result > 0 is a request to answer (its PTRACE_* number; out.id, addr, data, bytes); 0 means run on: out.signo (with its siginfo) is the signal to deliver now (0 for none), out.mode how the tracer resumed it (0 CONT, 1 SYSCALL, 2 SINGLESTEP), out.options the tracing options (-1: not traced). Parks while the caller is in a ptrace stop with nothing to answer.",
  },
  ptrace_event: {
    nr: 192,
    args: { event: "i32", message: "u64" },
    out: served,
    blocks: true,
    role: "guest",
    doc: "The tracee reached a stop point only it sees: event PTRACE_EVENT_FORK/VFORK/CLONE (message: the child's pid), EXEC (the former tid), EXIT (the wait status), 256 syscall entry, 257 syscall exit, 258 a single step done. When its tracer asked for that stop (options, or the resume mode) it stops there; then it answers as ptrace_serve(0).",
  },
});
