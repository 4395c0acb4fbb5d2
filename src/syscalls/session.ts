/** hello, register, claim: the handshake and binding a connection to a thread. */
import { E, Errno, errno } from "../protocol/errno.js";
import { PROTOCOL_VERSION } from "../protocol/index.js";
import { DELIVERY, type session } from "../protocol/calls/session.js";
import { claim, register } from "../actors/fork.js";
import { reservationProof } from "../actors/reservations.js";
import { badSecret, vforkClaim } from "../actors/vfork.js";
import type { CallCtx } from "./types.js";
import { deliver } from "../actors/signal.js";
import { ptraceClaimed } from "../actors/ptrace.js";
import type { Handlers } from "./types.js";
import type { Kernel } from "../actors/kernel.js";

export const DAEMON_NAME = "blinkd 0.1.0";

/** A host pid a guest may claim: not the host's init, not the daemon itself. */
function badHostPid(hostpid: number): string | undefined {
  if (hostpid <= 1) return `hostpid ${hostpid} is not a guest's host process`;
  if (hostpid === globalThis.process.pid) return "hostpid is the daemon's own pid";
  return undefined;
}

export const sessionCalls: Handlers<typeof session> = {
  hello: (ctx, { version, role }) => {
    if (ctx.caller.role !== "new") return errno(E.EPROTO, "hello was already said on this connection");
    if (version !== PROTOCOL_VERSION) {
      ctx.caller.closeAfterReply();
      return errno(E.EPROTO, `protocol version mismatch: daemon speaks ${PROTOCOL_VERSION}, client speaks ${version}; rebuild the client from the same schema`);
    }
    if (role !== "guest" && role !== "control") {
      ctx.caller.closeAfterReply();
      return errno(E.EINVAL, `hello.role: expected "guest" or "control", got ${JSON.stringify(role)}`);
    }
    if (role === "guest" && ctx.caller.controlOnly) {
      ctx.caller.closeAfterReply();
      return errno(E.EAGAIN, "the daemon's connection table is full: only control connections (ps, check) are accepted until a guest's closes");
    }
    ctx.caller.setRole(role === "guest" ? "unbound" : "control");
    return { result: 0, out: { daemon: DAEMON_NAME, pidMax: ctx.k.config.pidMax, nonce: ctx.caller.nonce } };
  },
  register: (ctx, { hostpid, exe, argv, delivery }) => {
    const bad = badHostPid(hostpid);
    if (bad) return errno(E.EINVAL, `register.hostpid: ${bad}`);
    if (delivery > DELIVERY.HOST_BLOCKED) return errno(E.EINVAL, `register.delivery: expected 0 (messages), 1 (host signals) or 2 (host signals, rung also while blocked), got ${delivery}`);
    // An unproven host pid is not taken: the daemon signals and reads only a process that proved it is this guest.
    const host = ctx.caller.provesHost(hostpid) ? hostpid : 0;
    const r = register(ctx.k, host, exe, argv, delivery);
    if (r instanceof Errno) return r;
    ctx.caller.bind(r.pid, r.pid, host);
    return r.pid;
  },
  claim: (ctx, { token, hostpid }) => {
    const bad = badHostPid(hostpid);
    if (bad) return errno(E.EINVAL, `claim.hostpid: ${bad}`);
    return bindClaimed(ctx, token, ctx.caller.provesHost(hostpid) ? hostpid : 0);
  },
  claim_fd: (ctx, { token, hostpid, fd }) => {
    const bad = badHostPid(hostpid);
    if (bad) return errno(E.EINVAL, `claim_fd.hostpid: ${bad}`);
    // The reservation's own secret proves it too (the child named its descriptor before it had
    // a connection, or a nonce); an unknown token proves nothing and claim says ENOENT.
    return bindClaimed(ctx, token, ctx.caller.provesHost(hostpid, fd, reservationProof(ctx.k, token)) ? hostpid : 0);
  },
  claim_vfork: (ctx, { token, ppid, hostpid, fd }) => {
    const bad = badHostPid(hostpid);
    if (bad) return errno(E.EINVAL, `claim_vfork.hostpid: ${bad}`);
    const badToken = badSecret("claim_vfork.token", token);
    if (badToken) return badToken;
    // As claim_fd once the parent's post is there (actors/vfork.ts); the proof is the parent's.
    return vforkClaim(ctx.k, token, ppid, () => {
      const r = bindClaimed(ctx, token, ctx.caller.provesHost(hostpid, fd, reservationProof(ctx.k, token)) ? hostpid : 0);
      ctx.k.running = 0;
      return r;
    });
  },
};

/** claim and claim_fd once the host pid is judged (0: unproven). */
function bindClaimed(ctx: CallCtx, token: string, host: number): { result: number; out: { pid: number } } | Errno {
  const r = claim(ctx.k, token, host);
  if (r instanceof Errno) return r;
  ctx.caller.bind(r.pid, r.tid, host);
  ctx.k.running = r.pid;
  // The child existed, with its pending signals, since fork returned; they act as it
  // first returns to user mode (ret_from_fork → get_signal): a stop stops it, a fatal
  // signal kills it, a handled one reaches it, now that its connection and host process are
  // known (the reply is still written: in-flight replies go out).
  deliver(ctx.k, r.pid);
  // A ptrace stop it started in (a seized tracer's auto-attach) rings it now it has a host process.
  ptraceClaimed(ctx.k, r.pid);
  return { result: r.tid, out: { pid: r.pid } };
}
