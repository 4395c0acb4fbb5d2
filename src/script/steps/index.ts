/**
 * The step vocabulary of scenario files: every step a process can take, assembled from
 * one file per family (process.ts, wait.ts, signal.ts, group.ts, …), so that adding a
 * family adds a file and one line here. Adding a step is one entry in its family's table,
 * one case in linux-agent.c and one in agent.ts (see spec/scenarios.md, "Adding a step").
 *
 * An entry parses the words after the step's name (process names stay names until the
 * step runs, so that a name can stand for a pid on either side), and says how the step
 * is sent to an agent, how its reply prints, and what the coordinator must wait for
 * after it (a process's death, for instance) so that the next step starts from a
 * settled state.
 */
import type { StepDef } from "./common.js";
import { PROCESS_STEPS } from "./process.js";
import { WAIT_STEPS } from "./wait.js";
import { SIGNAL_STEPS } from "./signal.js";
import { GROUP_STEPS } from "./group.js";
import { EVENTFD_STEPS } from "./eventfd.js";

export type { Disp, Env, Facts, Parsed, Reply, Settle, SigState, StepDef } from "./common.js";
export { NAME as PROCESS_NAME } from "./common.js";

const FAMILIES: readonly Record<string, StepDef>[] = [PROCESS_STEPS, WAIT_STEPS, SIGNAL_STEPS, GROUP_STEPS, EVENTFD_STEPS];

/** The vocabulary. Keys are the words a step starts with; a word defined twice is an error at load. */
export const STEPS: Record<string, StepDef> = {};
for (const family of FAMILIES)
  for (const [word, def] of Object.entries(family)) {
    if (word in STEPS) throw new Error(`scenario step ${word} is defined twice`);
    STEPS[word] = def;
  }
