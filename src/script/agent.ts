/**
 * The blinkd side's scenario agent: one Node.js guest process per emulated process of a
 * scenario. It connects to the daemon as a guest (claiming the pid its parent reserved),
 * then to the scenario coordinator, and makes the calls the coordinator sends it, one
 * line each (see coordinator.ts for the line protocol; linux-agent.c is its native twin).
 *
 *   argv: agent.js NAME         env: BLINKD_SOCKET, BLINKD_TOKEN, BLINKD_SCRIPT_COORD,
 *                               BLINKD_SCRIPT_HANDLERS (the handlers inherited from the parent)
 */
import * as net from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Guest, type SignalInfo } from "../client/guest.js";
import { SyscallError } from "../client/errors.js";
import type { ArgsOf, CallName } from "../protocol/index.js";
import { SIG } from "../protocol/linux/signals.js";
import { SIGACTION } from "../protocol/calls/signal.js";

const self = fileURLToPath(import.meta.url);
const name = process.argv[2] ?? "init";
const coordPath = process.env.BLINKD_SCRIPT_COORD;
if (!coordPath) {
  process.stderr.write("blinkd script agent: BLINKD_SCRIPT_COORD is not set\n");
  process.exit(2);
}

type Out = { result: number; errno: number; extra: number[]; words?: string[] };

async function sys<N extends CallName>(call: N, args: ArgsOf<N>): Promise<{ result: number; out: Record<string, unknown> } | SyscallError> {
  try {
    const r = await g.call(call, args);
    return { result: r.result, out: r.out as Record<string, unknown> };
  } catch (e) {
    if (e instanceof SyscallError) return e;
    throw e;
  }
}

const fail = (e: SyscallError): Out => ({ result: -1, errno: e.errno, extra: [] });
const plain = (r: Awaited<ReturnType<typeof sys>>, extra: (out: Record<string, unknown>) => number[] = () => []): Out =>
  r instanceof SyscallError ? fail(r) : { result: r.result, errno: 0, extra: extra(r.out) };

/** Set when an exit:CODE handler ran: as after Linux's _exit in a handler, the call it interrupted never returns. */
let dying = false;
/**
 * Handlers installed by `sigaction … handler` record each run's siginfo for `await` (as
 * the C agent's), in order; `exit:CODE` handlers end the process.
 */
let recs: SignalInfo[] = [];
let awaiting: { sig: number; take: (i: SignalInfo) => void } | undefined;
const record = (info: SignalInfo): void => {
  if (awaiting && awaiting.sig === info.signo) {
    const w = awaiting;
    awaiting = undefined;
    return w.take(info);
  }
  recs.push(info);
};
const exitWith = (code: number) => (): void => {
  dying = true;
  void sys("exit_group", { status: code }).finally(() => process.exit(code));
};
/** The handlers this process installed or inherited: signal → [disposition (2 record, 3 exit), flags, exit code]. */
let installed: Record<number, [number, number, number]> = JSON.parse(process.env.BLINKD_SCRIPT_HANDLERS ?? "{}");
delete process.env.BLINKD_SCRIPT_HANDLERS;
const handlerFor = (disp: number, code: number) => (disp === 3 ? exitWith(code) : record);

// A scenario's fork is a fork without exec (as the C agent's): the new Node.js process
// stands for the parent's copy, so it does not report an execve (setpgid's EACCES rule).
// fork(2) copies the handlers: a C child has them in its copy of memory, this Node.js child
// takes them from its parent (the daemon already has the dispositions), before it claims.
const g: Guest = await Guest.connect({
  execed: false,
  handlers: new Map(Object.entries(installed).map(([sig, [disp, flags, code]]) => [+sig, { fn: handlerFor(disp, code), flags }])),
});
const coord = net.connect(coordPath);
await new Promise<void>((resolve, reject) => {
  coord.once("connect", resolve);
  coord.once("error", reject);
});
// The coordinator going away ends the scenario: nothing is left to do here.
coord.on("close", () => process.exit(0));
const say = (line: string, then?: () => void): void => {
  if (!dying) coord.write(line + "\n", then);
};
say(`hello ${name} ${g.getpid()} ${process.pid}`);

const siginfo = (i: SignalInfo): number[] => [i.signo, i.pid, i.code, i.uid, i.signo === SIG.SIGCHLD ? i.status : 0];

/** The agent's calls, by the coordinator's command name; arguments are numbers (fork: a name). */
const ops: Record<string, (a: string[]) => Promise<Out>> = {
  fork: async ([child]) => {
    try {
      const env = { ...process.env, BLINKD_SCRIPT_HANDLERS: JSON.stringify(installed) };
      const { pid } = await g.fork(self, [child!], { stdio: ["ignore", "ignore", "inherit"], env });
      return { result: pid, errno: 0, extra: [] };
    } catch (e) {
      if (e instanceof SyscallError) return fail(e);
      throw e;
    }
  },
  getpid: async () => ({ result: g.getpid(), errno: 0, extra: [] }),
  getppid: async () => plain(await sys("getppid", {})),
  wait4: async ([pid, options]) => plain(await sys("wait4", { pid: +pid!, options: +options! }), (o) => [o.wstatus as number]),
  waitid: async ([idtype, id, options]) =>
    plain(await sys("waitid", { idtype: +idtype!, id: +id!, options: +options! }), (o) => [o.pid, o.uid, o.signo, o.status, o.code] as number[]),
  setsub: async ([v]) => plain(await sys("prctl_set_child_subreaper", { value: +v! >>> 0 })),
  getsub: async () => {
    const r = await sys("prctl_get_child_subreaper", {});
    return r instanceof SyscallError ? fail(r) : { result: 0, errno: 0, extra: [r.result] };
  },
  sigaction: async ([sig, handler, flags, code]) => {
    try {
      const action = +handler! === SIGACTION.SIG_DFL ? "default" : +handler! === SIGACTION.SIG_IGN ? "ignore" : handlerFor(+handler!, +code! & 0xff);
      await g.sigaction(+sig!, action, +flags! >>> 0);
      if (typeof action === "function") installed[+sig!] = [+handler!, +flags! >>> 0, +code! & 0xff];
      else delete installed[+sig!];
      return { result: 0, errno: 0, extra: [] };
    } catch (e) {
      if (e instanceof SyscallError) return fail(e);
      throw e;
    }
  },
  kill: async ([pid, sig]) => plain(await sys("kill", { pid: +pid!, sig: +sig! })),
  tkill: async ([tid, sig]) => plain(await sys("tkill", { tid: +tid!, sig: +sig! })),
  tgkill: async ([tgid, tid, sig]) => plain(await sys("tgkill", { tgid: +tgid!, tid: +tid!, sig: +sig! })),
  sigmask: async ([how, lo, hi]) => plain(await sys("rt_sigprocmask", { how: +how!, set: (BigInt(+hi! >>> 0) << 32n) | BigInt(+lo! >>> 0) })),
  sigpending: async () =>
    plain(await sys("rt_sigpending", {}), (o) => {
      const set = o.set as bigint;
      return [Number(set & 0xffffffffn), Number((set >> 32n) & 0xffffffffn)];
    }),
  await: async ([sig, ms]) => {
    const i = recs.findIndex((r) => r.signo === +sig!);
    if (i >= 0) return { result: 0, errno: 0, extra: siginfo(recs.splice(i, 1)[0]!) };
    const info = await new Promise<SignalInfo | undefined>((take) => {
      awaiting = { sig: +sig!, take };
      // A bound (await SIGNAL MS): nothing came within it, as sigtimedwait's EAGAIN.
      if (ms !== undefined)
        setTimeout(() => {
          if (awaiting?.take !== take) return;
          awaiting = undefined;
          take(undefined);
        }, +ms);
    });
    return info ? { result: 0, errno: 0, extra: siginfo(info) } : { result: -1, errno: 11, extra: [] };
  },
  handled: async () => {
    const sigs = recs.map((r) => r.signo);
    recs = [];
    return { result: sigs.length, errno: 0, extra: sigs };
  },
  setresuid: async ([r, e, s]) => plain(await sys("setresuid", { ruid: +r! >>> 0, euid: +e! >>> 0, suid: +s! >>> 0 })),
  getpgrp: async () => plain(await sys("getpgrp", {})),
  exec: async () => {
    try {
      // The same Node.js process stands for the new image: the daemon resets the handled
      // dispositions, and the records of the old image's handlers go with it.
      await g.execve(process.execPath, [process.execPath, self, name]);
      recs = [];
      installed = {};
      return { result: 0, errno: 0, extra: [] };
    } catch (e) {
      if (e instanceof SyscallError) return fail(e);
      throw e;
    }
  },
  setpgid: async ([pid, pgid]) => plain(await sys("setpgid", { pid: +pid!, pgid: +pgid! })),
  getpgid: async ([pid]) => plain(await sys("getpgid", { pid: +pid! })),
  setsid: async () => plain(await sys("setsid", {})),
  getsid: async ([pid]) => plain(await sys("getsid", { pid: +pid! })),
  // eventfd steps (steps/eventfd.ts): daemon descriptors; u64 values travel as decimal words.
  efd_new: async ([init, flags]) => plain(await sys("eventfd2", { initval: +init! >>> 0, flags: +flags! })),
  efd_read: async ([fd, size]) => {
    const r = await sys("eventfd_read", { fd: +fd!, size: +size! >>> 0 });
    return r instanceof SyscallError ? fail(r) : { result: r.result, errno: 0, extra: [], words: [String(r.out.value)] };
  },
  efd_write: async ([fd, v, size]) => plain(await sys("eventfd_write", { fd: +fd!, value: BigInt(v!), size: +size! >>> 0 })),
  fd_close: async ([fd]) => plain(await sys("close", { fd: +fd! })),
  fd_dup: async ([fd]) => plain(await sys("dup", { fd: +fd! })),
  fd_dup3: async ([a, b, f]) =>
    plain(+f! === -1 ? await sys("dup2", { oldfd: +a!, newfd: +b! }) : await sys("dup3", { oldfd: +a!, newfd: +b!, flags: +f! })),
  fd_fcntl: async ([fd, cmd, arg]) => plain(await sys("fcntl", { fd: +fd!, cmd: +cmd!, arg: +arg! })),
  fd_poll0: async ([fd, ev]) => plain(await sys("poll", { fds: [+fd!], events: [+ev!], timeout: 0 }), (o) => [(o.revents as number[])[0] ?? 0]),
};

createInterface({ input: coord }).on("line", (line) => {
  const [seq, op, ...rest] = line.split(" ");
  // A trailing "&": a background call. Once the daemon has taken the request (a later call
  // on the same connection has been answered: requests on one connection are handled in
  // order), tell the coordinator, which then lets the next step go.
  const background = rest[rest.length - 1] === "&";
  if (background) rest.pop();
  if (op === "exit") {
    const status = +rest[0]!;
    void sys("exit_group", { status }).then(() => say(`r ${seq} 0 0`, () => process.exit(status & 0xff)));
    return;
  }
  const f = ops[op!];
  if (!f) return say(`r ${seq} -1 38`); // ENOSYS: the coordinator sent a command this agent lacks
  const done = f(rest).then(
    (o) => say(`r ${seq} ${o.result} ${o.errno}${(o.words ?? o.extra.map(String)).map((x) => " " + x).join("")}`),
    (e: unknown) => {
      process.stderr.write(`blinkd script agent ${name}: ${op}: ${(e as Error)?.message ?? e}\n`);
      say(`r ${seq} -1 5`);
    },
  );
  if (background) void sys("gettid", {}).then(() => say(`b ${seq}`));
  void done;
});
