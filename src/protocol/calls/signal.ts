import { family } from "../schema.js";

/** rt_sigaction's handler argument: the protocol's codes for a disposition (C: BLINKD_SIGACTION_*). */
export const SIGACTION = { SIG_DFL: 0, SIG_IGN: 1, HANDLER: 2 } as const;

/** Signals: kill and its relatives, the dispositions, mask and credentials the guest reports, and delivery. */
export const signal = family({
  rt_sigaction: {
    nr: 70,
    args: { signo: "i32", handler: "u32", flags: "u32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: `The guest changed a disposition: handler ${SIGACTION.SIG_DFL} = SIG_DFL, ${SIGACTION.SIG_IGN} = SIG_IGN, ${SIGACTION.HANDLER} = a handler; flags are the SA_* bits (SA_NOCLDSTOP, SA_NOCLDWAIT, SA_RESTART, …). The daemon applies the rules that depend on them (default actions, init's protections, SIGCHLD, auto-reap).`,
  },
  kill: {
    nr: 71,
    args: { pid: "i32", sig: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "kill(2): pid > 0 that process, 0 the caller's group, -1 every process but init and the caller, < -1 the group -pid; sig 0 probes. ESRCH, EINVAL, EPERM as Linux.",
  },
  tkill: {
    nr: 72,
    args: { tid: "i32", sig: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "tkill(2): one thread. EINVAL for tid <= 0.",
  },
  tgkill: {
    nr: 73,
    args: { tgid: "i32", tid: "i32", sig: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "tgkill(2): one thread of process tgid. EINVAL for tgid or tid <= 0; ESRCH when tid is not in tgid.",
  },
  rt_sigprocmask: {
    nr: 74,
    args: { how: "i32", set: "u64" },
    out: { old: "u64" },
    blocks: false,
    role: "guest",
    doc: "The calling thread's signal mask: how 0 = SIG_BLOCK, 1 = SIG_UNBLOCK, 2 = SIG_SETMASK (bit signo-1); SIGKILL and SIGSTOP are never blocked. out.old is the previous mask. Signals it unblocks may be delivered at once.",
  },
  rt_sigpending: {
    nr: 75,
    args: {},
    out: { set: "u64" },
    blocks: false,
    role: "guest",
    doc: "sigpending(2): the signals pending for the calling thread or its process that the thread blocks.",
  },
  sig_dequeue: {
    nr: 76,
    args: { mask: "u64" },
    out: { pid: "i32", code: "i32", uid: "u32", status: "i32", pending: "u64" },
    blocks: false,
    role: "guest",
    doc: "Delivery 1: takes the calling thread's next pending signal that neither the thread's mask nor `mask` blocks (bit signo-1; the guest's own mask at that moment, as dequeue_signal's mask argument), its own queue first, lowest number first; returns its number and siginfo, or 0 when none is pending. out.pending: what is still pending for the thread or its process after it (bit signo-1, blocked or not), so the guest asks again only when that holds a signal its masks let through.",
  },
  setresuid: {
    nr: 77,
    args: { ruid: "u32", euid: "u32", suid: "u32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "setresuid(2) as the guest did it: 0xffffffff ((uid_t)-1) leaves an id unchanged; without euid 0 each new id must be one of the current three (EPERM). The ids decide kill's permission.",
  },
  sig_wait: {
    nr: 78,
    args: { set: "u64", arm: "u32" },
    out: { pid: "i32", code: "i32", uid: "u32", status: "i32" },
    blocks: false,
    role: "guest",
    doc: "Delivery 1, sigwait/sigtimedwait (do_sigtimedwait): ends the calling thread's earlier wait, then takes its next pending signal in `set` (bit signo-1) whatever its mask, its own queue first, lowest number first, and returns its number and siginfo. When none is pending and arm is 1, the thread waits for `set` on the host: a signal in `set` generated later rings its host process (the same signal number, as a doorbell) even while the thread blocks it, until the thread's next sig_wait.",
  },
  sig_watch: {
    nr: 79,
    args: { set: "u64" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "Delivery 1, signalfd(2): the signals the calling thread reads from its signalfds (bit signo-1; replaces the earlier set, 0 for none). Each one pending or generated while the set holds it rings the host process (the same signal number) even though the thread blocks it, so the host signalfd becomes readable; the guest takes it with sig_wait.",
  },
});
