/** The `blinkd` command. */
import { DaemonGoneError, SyscallError } from "../client/errors.js";
import { UsageError } from "./args.js";
import { restoreCallerEnv } from "./callerenv.js";

// Before any command starts a guest with process.env (the #! line's settings are the daemon's).
restoreCallerEnv();

const HELP = `blinkd: the kernel server for blink guests

  blinkd run [--prefix DIR] [--trace] [--pid-max N] [--reserve-timeout-ms MS] -- CMD [ARGS…]
      run CMD as PID 1 of a new emulated PID namespace; exit with its status
  blinkd serve [--prefix DIR] [--trace] [--pid-max N] [--reserve-timeout-ms MS]
      serve guests at PREFIX/blinkd.sock until SIGINT or SIGTERM
  blinkd ps [--prefix DIR] [--socket PATH] [--json]
      list the processes of a running namespace (as ps -eo pid,ppid,pgid,sid,stat,comm,args)
  blinkd check [--prefix DIR] [--socket PATH] [--json]
      run the daemon's consistency checker (leaked pids, actors, objects, parked calls,
      unreapable zombies, memory); exit 1 when an invariant is broken
  blinkd pstree [--prefix DIR] [--socket PATH] [--json] [PID]
      draw the process tree (as pstree -p)
  blinkd inspect [--prefix DIR] [--socket PATH] [--json] (PID | --all | --check)
      the daemon's actors for a process (or all): state, context, parked calls, descriptors
  blinkd events [--prefix DIR] [--socket PATH] [--json] [--follow] [--pid N]
      recent actor transitions and calls; with --follow, a live stream until Ctrl-C
  blinkd web [--prefix DIR] [--socket PATH] [--port N]
      a browser view of the running namespace: the tree, each actor, eventfds, signals,
      the live event stream and the tree at any earlier event (127.0.0.1, behind a token)
  blinkd procfs export [--prefix DIR] [--socket PATH] DIR
      write the namespace's /proc as a directory tree (mount it over /proc for real ps)
  blinkd script [--linux | --compare | --record] [--blink] [--json] FILE…
      run a scenario (spec/scenarios.md) in a fresh namespace and print its trace;
      --linux runs it on real Linux (unshare --pid --fork, root), --compare runs both
      (against the stored Linux trace, NAME.linux, when Linux cannot run), --record (root)
      writes the stored Linux traces; --blink runs the namespace's processes in blink
      (the C agent of --linux) instead of as Node.js agents

Limits (serve and run; see the README's "Limits"): --max-tasks N (EAGAIN), --max-fds N
(EMFILE), --max-files N (ENFILE), --max-connections N, --max-parked N (EAGAIN),
--max-frame BYTES, --handshake-timeout-ms MS.

The prefix is --prefix, else $BLINK_PREFIX, else $XDG_RUNTIME_DIR/blinkd, else /tmp/blinkd-UID.
BLINKD_TRACE=1 (or --trace) prints every call and reply.
`;

/**
 * Each command's module is loaded when it runs: `blinkd ps` does not parse the daemon, nor
 * `blinkd run` the browser view. In the bundle (bin/blinkd.js) each is its own chunk.
 */
const commands: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  run: async () => (await import("./run.js")).runCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  ps: async () => (await import("./ps.js")).psCommand,
  check: async () => (await import("./check.js")).checkCommand,
  pstree: async () => (await import("./pstree.js")).pstreeCommand,
  inspect: async () => (await import("./inspect.js")).inspectCommand,
  events: async () => (await import("./events.js")).eventsCommand,
  procfs: async () => (await import("./procfs.js")).procfsCommand,
  script: async () => (await import("./script.js")).scriptCommand,
  web: async () => (await import("./web.js")).webCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  const load = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
  if (!load) {
    process.stderr.write(`blinkd: unknown command ${JSON.stringify(cmd)}\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`blinkd ${cmd}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof DaemonGoneError || e instanceof SyscallError) {
      process.stderr.write(`blinkd ${cmd}: ${e.message}\n`);
      return 1;
    }
    const msg = (e as { message?: string })?.message ?? String(e);
    process.stderr.write(`blinkd ${cmd}: ${msg}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`blinkd: ${(e as Error)?.stack ?? e}\n`);
    process.exit(70);
  },
);
