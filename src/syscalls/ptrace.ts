/**
 * The ptrace family (spec/ptrace.md): the tracer's ptrace(2), and the tracee's side that
 * answers what only it can (ptrace_serve) and reports the stop points only it sees
 * (ptrace_event). The rules are in actors/ptrace.ts; this is arguments and parking.
 */
import { E, Errno, errno } from "../protocol/errno.js";
import type { ptrace } from "../protocol/calls/ptrace.js";
import { NOT_READY, park, type Parked } from "../actors/park.js";
import {
  PT,
  abandon,
  answeredQueue,
  attachTo,
  carriedAlive,
  reportEvent,
  request,
  serveAnswer,
  serveNext,
  serveQueue,
  traceme,
  type Served,
} from "../actors/ptrace.js";
import type { CallCtx, Handlers } from "./types.js";

/** How long a tracer's request waits for its tracee's answer (spec/ptrace.md §4.4). */
export const ANSWER_TIMEOUT_MS = 10_000;

const EMPTY = Buffer.alloc(0);

/** ptrace_serve's parking: the next request, or "run on", whichever comes. */
function serve(ctx: CallCtx): Served | Parked<Served> {
  const pid = ctx.caller.pid;
  const once = (): Served | typeof NOT_READY => serveNext(ctx.k, pid) ?? NOT_READY;
  const first = once();
  if (first !== NOT_READY) return first;
  return park(() => serveQueue(ctx.k, pid), once);
}

export const ptraceCalls: Handlers<typeof ptrace> = {
  ptrace: (ctx, { request: req, pid, addr, data, bytes }) => {
    const k = ctx.k;
    const me = ctx.caller.pid;
    if (req === PT.TRACEME) {
      const r = traceme(k, me);
      return r === 0 ? { result: 0, out: { value: 0n, bytes: EMPTY } } : r;
    }
    // find_get_task_by_vpid: ESRCH when no task has that pid (a thread's tid names its process here).
    const target = k.procs.has(pid) ? pid : k.threads.get(pid)?.getSnapshot().context.pid;
    if (pid <= 0 || target === undefined || k.state(target) === "reaped" || k.state(target) === "aborted") return errno(E.ESRCH, `no process ${pid}`);
    if (req === PT.ATTACH || req === PT.SEIZE) {
      const r = attachTo(k, me, target, req === PT.SEIZE, addr, data);
      return r === 0 ? { result: 0, out: { value: 0n, bytes: EMPTY } } : r;
    }
    const h = request(k, me, req, target, addr, data, bytes);
    if (h instanceof Errno) return h;
    if (!("carry" in h)) return { result: h.result, out: { value: h.value, bytes: h.bytes } };
    const { carry, link } = h;
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    const once = () => {
      if (carry.answer) {
        const a = carry.answer;
        return a.result < 0 ? errno(-a.result, `the tracee answered ${-a.result}`) : { result: 0, out: { value: a.value, bytes: a.bytes } };
      }
      // The tracee left its stop (killed, detached) before it answered: ptrace_check_attach would fail now.
      if (!carriedAlive(k, target, link, carry)) return errno(E.ESRCH, `${pid} left its ptrace stop before it answered`);
      return NOT_READY;
    };
    const first = once();
    if (first !== NOT_READY) return first;
    return park(() => [answeredQueue(link)], once, {
      deadline,
      onTimeout: () => {
        abandon(link, carry);
        return errno(E.EIO, `${pid} did not answer within ${ANSWER_TIMEOUT_MS} ms (its client does not serve ptrace requests)`);
      },
    }).onCancel(() => abandon(link, carry));
  },
  ptrace_serve: (ctx, { id, result, value, bytes }) => {
    if (result < -4095n || result > 0x7fffffffn) return errno(E.EINVAL, "ptrace_serve.result: a count or a negated errno");
    serveAnswer(ctx.k, ctx.caller.pid, id, Number(result), value, bytes);
    return serve(ctx);
  },
  ptrace_event: (ctx, { event, message }) => {
    const r = reportEvent(ctx.k, ctx.caller.pid, event, message, true);
    if (r !== 0) return r;
    return serve(ctx);
  },
};
