/**
 * Events taken without xstate's macrostep, where a start-up check of the machine proves the
 * step simple enough to make directly.
 *
 * xstate (5.33.3, pinned) runs a whole macrostep for every event: the transitions' selection
 * over the state set, a microstep with its exit and entry sets, the actions' resolution (a
 * snapshot clone per assign), the node set's clone, the eventless check and a microstep
 * inspection event nobody in the daemon observes: ~50 µs of the daemon for an event that only
 * assigns, 70–100 µs for one that changes state (bench/README.md, issue 18). A dash loop's
 * iteration takes six of them per process: PENDING twice (the SIGCHLD queued, then taken),
 * CLAIM, EXEC, DIE and REAP.
 *
 * An event qualifies in a state when the machine is flat (its root's children atomic or
 * final, no history, no eventless transition or wildcard anywhere, nothing on entering or
 * leaving the root) and exactly one unguarded transition takes it there: the state's own
 * when it has one for the event (xstate looks there first), else the root's. That transition
 * either has no target (nothing is exited or entered) or, from the state, targets another
 * child of the root that has no entry action, invocation or output (the state it leaves has
 * no exit action or invocation); a final target also needs a machine without output or exit
 * actions, and the actor no children at run time, else xstate's macrostep takes it. Its
 * actions are each an `assign` or a plain action (a named or inline function; no other
 * built-in: raise, sendTo, enqueueActions, spawn…), without params.
 *
 * Such a step is made here as the macrostep makes it: the actions in order, each assign's
 * partial applied to the context the one before it made, into a new context object
 * (resolveAssign: `Object.assign({}, context, partial)`), each plain action run through the
 * actor's own executor with that context (its `@xstate.action` inspection and the executing
 * flag, as xstate runs it); then the snapshot copied with the new context and, for a target,
 * the new node set, value and tags, and `status: "done"` for a final one. An event that
 * neither assigns nor moves leaves the snapshot itself, as xstate's does. The actor's step
 * around it is xstate's (its snapshot update, its stop at a final state, observers and the
 * snapshot inspection the event log records). An assignment here may not spawn.
 * `spec/unit/directstep.test.ts` compares each such event's snapshot with xstate's.
 */
import type { AnyActorScope, AnyStateMachine, EventObject } from "xstate";

interface Transition {
  readonly target?: readonly Node[];
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
}

interface Node {
  readonly key: string;
  readonly type: string;
  readonly parent?: Node;
  readonly transitions: ReadonlyMap<string, readonly Transition[]>;
  readonly always?: readonly unknown[];
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: readonly unknown[];
  readonly output?: unknown;
  readonly tags: readonly string[];
  readonly states: Record<string, Node>;
}

type ActionArgs = { context: object; event: EventObject; self: unknown; system: unknown };
type Assignment = (args: ActionArgs & { spawn: () => never }, params: undefined) => object;

/** One action of a direct step: an assign's assignment (a function, or an object of them and values), or a plain action to run. */
export type StepAction =
  | { readonly assign: Assignment | Readonly<Record<string, unknown>> }
  | { readonly type: string; readonly exec: (args: ActionArgs, params: undefined) => void };

/** How a qualifying event changes a snapshot in one state (see above). */
export interface Step {
  readonly actions: readonly StepAction[];
  /** The target, for a transition that has one: another child of the root. */
  readonly target?: { readonly node: Node; readonly nodes: readonly Node[]; readonly tags: readonly string[]; readonly final: boolean };
}

/** Whether the machine's shape lets any of its steps be direct: one level of states, nothing eventless, no wildcard, a root that does nothing on entry or exit. */
function flat(machine: AnyStateMachine): boolean {
  const root = machine.root as unknown as Node;
  const children = Object.values(root.states);
  const wild = (n: Node): boolean => [...n.transitions.keys()].some((k) => k === "*" || k.endsWith(".*"));
  if (root.type !== "compound" || root.always?.length || wild(root) || root.entry.length || root.exit.length || root.invoke.length) return false;
  return children.every((n) => (n.type === "atomic" || n.type === "final") && !n.always?.length && !wild(n));
}

/** The actions of `t`, when each is an assign or a plain function without params; undefined otherwise. */
function actionsOf(machine: AnyStateMachine, t: Transition): StepAction[] | undefined {
  const impl = (machine.implementations as { actions: Record<string, unknown> }).actions;
  const out: StepAction[] = [];
  for (const a of t.actions) {
    if (typeof a !== "string" && typeof a !== "function") return undefined;
    const f = typeof a === "string" ? impl[a] : a;
    if (typeof f !== "function") return undefined;
    const builtin = f as { type?: string; assignment?: unknown; resolve?: unknown };
    if (builtin.type === "xstate.assign" && builtin.assignment && (typeof builtin.assignment === "function" || typeof builtin.assignment === "object"))
      out.push({ assign: builtin.assignment as Assignment | Readonly<Record<string, unknown>> });
    else if ("resolve" in builtin) return undefined;
    else out.push({ type: typeof a === "string" ? a : a.name || "(anonymous)", exec: f as (args: ActionArgs, params: undefined) => void });
  }
  return out;
}

/** How `type` changes a snapshot in state `state` (a child of the root), when it qualifies (see above); undefined otherwise. */
export function directStep(machine: AnyStateMachine, state: string, type: string): Step | undefined {
  if (!flat(machine)) return undefined;
  const root = machine.root as unknown as Node;
  const source = root.states[state];
  if (!source || source.type === "final") return undefined;
  const own = source.transitions.get(type);
  const ts = own?.length ? own : root.transitions.get(type);
  if (!ts || ts.length !== 1) return undefined;
  const t = ts[0]!;
  if (t.guard !== undefined) return undefined;
  const actions = actionsOf(machine, t);
  if (!actions) return undefined;
  if (t.target === undefined) return { actions };
  // A target only from the state itself, to another child of the root: exits the state, enters the target.
  if (!own?.length || t.target.length !== 1) return undefined;
  const node = t.target[0]!;
  if (node === source || node.parent !== root || node.type === "history") return undefined;
  if (source.exit.length || source.invoke.length || node.entry.length || node.invoke.length || node.output !== undefined) return undefined;
  const final = node.type === "final";
  if (final && (root.output !== undefined || node.exit.length)) return undefined;
  // The node set in xstate's order: the state left and the target swapped in the root's set;
  // at a final state sorted deepest first (the microstep sorts it in place for the exit actions).
  const nodes = final ? [node, root] : [root, node];
  return { actions, target: { node, nodes, tags: nodes.flatMap((n) => n.tags), final } };
}

const noSpawn = (): never => {
  throw new Error("an assignment taken without the macrostep cannot spawn (machine/directstep.ts)");
};

type Snap = { status: string; context: object; value: unknown; children: object; output?: unknown };

/** The snapshot `step` makes from `snapshot` for `event` (see above). */
export function takeStep(step: Step, snapshot: Snap, event: EventObject, scope: AnyActorScope): Snap {
  let context = snapshot.context;
  let assigned = false;
  for (const a of step.actions) {
    if ("assign" in a) {
      const args = { context, event, self: scope.self, system: scope.system, spawn: noSpawn };
      let partial: object;
      if (typeof a.assign === "function") partial = a.assign(args, undefined);
      else {
        const p: Record<string, unknown> = {};
        for (const k of Object.keys(a.assign)) {
          const v = a.assign[k];
          p[k] = typeof v === "function" ? (v as Assignment)(args, undefined) : v;
        }
        partial = p;
      }
      context = Object.assign({}, context, partial);
      assigned = true;
    } else scope.actionExecutor({ type: a.type, info: { context, event, self: scope.self, system: scope.system }, params: undefined, exec: a.exec } as never);
  }
  const t = step.target;
  if (!t) return assigned ? { ...snapshot, context } : snapshot;
  const next = { ...snapshot, context, _nodes: [...t.nodes], value: t.node.key, tags: new Set(t.tags) };
  return t.final ? { ...next, status: "done", output: undefined } : next;
}

/** Takes each of `types` without the macrostep in every state where it qualifies; returns the types that do somewhere. */
export function directSteps(machine: AnyStateMachine, types: readonly string[]): string[] {
  const root = machine.root as unknown as Node;
  const direct = new Map<string, Map<unknown, Step>>();
  for (const type of types) {
    const byState = new Map<unknown, Step>();
    for (const state of Object.keys(root.states)) {
      const step = directStep(machine, state, type);
      if (step) byState.set(state, step);
    }
    if (byState.size) direct.set(type, byState);
  }
  if (direct.size === 0) return [];
  const xstate = machine.transition.bind(machine);
  const transition = (snapshot: Snap, event: EventObject, scope: AnyActorScope): Snap => {
    const step = snapshot.status === "active" ? direct.get(event.type)?.get(snapshot.value) : undefined;
    // A final state stops the actor's children in the macrostep: an actor with any goes through xstate.
    if (!step || (step.target?.final && hasKeys(snapshot.children))) return xstate(snapshot as never, event as never, scope) as unknown as Snap;
    return takeStep(step, snapshot, event, scope);
  };
  (machine as unknown as { transition: typeof transition }).transition = transition;
  return [...direct.keys()];
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
