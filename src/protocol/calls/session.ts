import { family } from "../schema.js";

/** register's delivery: how the daemon delivers the process's handled signals (spec/signals.md §3, §4; C: BLINKD_DELIVERY_*). */
export const DELIVERY = { EVENTS: 0, HOST: 1, HOST_BLOCKED: 2 } as const;

/** Delivery 1 or 2: the guest runs its own handlers and takes its signals with sig_dequeue, rung by host signals (spec/signals.md §4). */
export const byHost = (delivery: number): boolean => delivery === DELIVERY.HOST || delivery === DELIVERY.HOST_BLOCKED;

/** The handshake and identity binding: the first calls on every connection. */
export const session = family({
  hello: {
    nr: 0,
    args: { version: "str", role: "str", client: "str" },
    out: { daemon: "str", pidMax: "i32", nonce: "str" },
    blocks: false,
    role: "any",
    doc: "First call on a connection: the protocol version hash and the role ('guest' or 'control'). A mismatch is EPROTO and the connection closes. out.nonce (32 hex digits) is this connection's: a guest proves its host pid with it (§7.3).",
  },
  register: {
    nr: 1,
    args: { hostpid: "i32", exe: "str", argv: "strs", delivery: "u32" },
    out: {},
    blocks: false,
    role: "unbound",
    doc: `Bind this connection to a new process (PID 1 if the namespace is empty, else a process whose parent is outside the namespace: getppid 0). hostpid is proven by a descriptor named blinkd-proof-NONCE in that process (§7.3); unproven, the process has no host process and the overflow uid 65534. delivery: ${DELIVERY.EVENTS} = signals as messages, ${DELIVERY.HOST} = as host signals, ${DELIVERY.HOST_BLOCKED} = as host signals, rung also while blocked (signals.md §4.1). Returns the pid.`,
  },
  claim: {
    nr: 2,
    args: { token: "str", hostpid: "i32" },
    out: { pid: "i32" },
    blocks: false,
    role: "unbound",
    doc: "Bind this connection to the process or thread reserved by fork or thread_create, by its one-time token; hostpid is proven as for register, else the process has no host process. Returns the tid; out.pid is the process.",
  },
  claim_fd: {
    nr: 3,
    args: { token: "str", hostpid: "i32", fd: "i32" },
    out: { pid: "i32" },
    blocks: false,
    role: "unbound",
    doc: "claim, with the host pid proven by descriptor fd of that process alone (one readlink of /proc/HOSTPID/fd/FD, §7.3): its name holds blinkd-proof-NONCE (the hello's) or blinkd-proof-PROOF (the reservation's, from fork's out.proof), so a fork child may send hello and claim_fd in one write. Otherwise as claim (an unproven host pid: no host process).",
  },
  claim_vfork: {
    nr: 4,
    args: { token: "str", ppid: "i32", hostpid: "i32", fd: "i32" },
    out: { pid: "i32" },
    blocks: true,
    role: "unbound",
    doc: "A vfork child's claim_fd of the reservation its parent ppid makes with vfork under token (its proof descriptor named with the parent's proof), sent with hello in one write and answered to the child's new image (the child does not wait). The two connections have no order: a claim that comes first waits for the reservation, at most reserveTimeoutMs (then ETIMEDOUT, and the token is dead), and ends at once if ppid's connection ends (ESRCH); the connection's later requests wait for it. The reservation's failure (EAGAIN) is this call's; ENOENT when ppid did not reserve token. Returns the tid; result 0 (not bound) when the reserved child was killed or expired before it claimed: out.pid is that child, and the caller dies of SIGKILL (§7.4.1).",
  },
});
