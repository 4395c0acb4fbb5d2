/**
 * The set-up the agent suites share: one daemon (`serve`) and its first process, an `init`
 * agent (pid 1), started before the file's tests and ended after them (every tracked agent
 * SIGKILLed, then the daemon stopped). `each: true` makes a fresh pair for every test instead.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { serve, type Served } from "./daemon.js";
import { agent, agentTracker, type Agent } from "./agent.js";

export interface Namespace {
  /** The daemon; set once the hooks have run. */
  readonly daemon: Served;
  /** The namespace's first process, a tracked agent; set once the hooks have run. */
  readonly init: Agent;
  /** Records an agent as it starts, to be SIGKILLed when the namespace ends. */
  track(p: Promise<Agent>): Promise<Agent>;
}

/** Registers the hooks that start and end the namespace; read `daemon` and `init` inside tests and later hooks. */
export function namespace(opts: { each?: boolean } = {}): Namespace {
  const { track, killAll } = agentTracker();
  let daemon: Served | undefined;
  let init: Agent | undefined;
  const [before, after] = opts.each ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    daemon = await serve();
    init = await track(agent(daemon.socket));
  });
  after(async () => {
    killAll();
    await daemon?.stop();
  });
  return {
    get daemon() {
      return daemon!;
    },
    get init() {
      return init!;
    },
    track,
  };
}
