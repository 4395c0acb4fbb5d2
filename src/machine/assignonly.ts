/**
 * Events that only assign, taken without xstate's macrostep.
 *
 * A machine's event whose one transition is on the root, without guard or target, whose
 * actions are all `assign`s, and which no other state handles, changes nothing but the
 * context: xstate (5.33.3, pinned) still runs a whole macrostep for it (the transitions'
 * selection over the state set, a microstep with its exit and entry sets, the actions'
 * resolution, the eventless check, a snapshot clone per step and a microstep inspection
 * event nobody in the daemon observes): ~50 µs of the daemon per event (bench/README.md,
 * issue 18). A process's pending set changes twice per dash iteration (the SIGCHLD queued,
 * then taken). For such an event the transition is made here as the macrostep would make it:
 * the assignments applied in order, each to the context the one before it made, into a new
 * context object (resolveAssign: `Object.assign({}, context, partial)`), and the snapshot
 * copied with it. The actor's step around it is xstate's (its snapshot update, observers
 * and the snapshot inspection the event log records). An assignment here may not spawn.
 * `spec/unit/assignonly.test.ts` compares each such event's snapshot with xstate's.
 */
import type { AnyActorScope, AnyStateMachine, EventObject } from "xstate";

interface Transition {
  readonly target?: readonly unknown[];
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
}

interface Node {
  readonly transitions: ReadonlyMap<string, readonly Transition[]>;
  readonly always?: readonly unknown[];
  readonly states: Record<string, Node>;
}

type Assignment = (args: { context: object; event: EventObject; self: unknown; system: unknown; spawn: () => never }) => object;

function nodes(n: Node): Node[] {
  return [n, ...Object.values(n.states).flatMap(nodes)];
}

/** The assignments `type` makes, when it is an event this module may take (see above); undefined otherwise. */
export function assignOnly(machine: AnyStateMachine, type: string): Assignment[] | undefined {
  const root = machine.root as unknown as Node;
  const all = nodes(root);
  // No eventless transition anywhere (the macrostep would look for one after the event), no wildcard.
  if (all.some((n) => n.always?.length || [...n.transitions.keys()].some((k) => k === "*" || k.endsWith(".*")))) return undefined;
  if (all.some((n) => n !== root && n.transitions.has(type))) return undefined;
  const ts = root.transitions.get(type);
  if (!ts || ts.length !== 1) return undefined;
  const t = ts[0]!;
  if (t.guard !== undefined || t.target !== undefined) return undefined;
  const impl = (machine.implementations as { actions: Record<string, unknown> }).actions;
  const out: Assignment[] = [];
  for (const a of t.actions) {
    const f = typeof a === "string" ? impl[a] : a;
    const assign = f as { type?: string; assignment?: unknown } | undefined;
    if (typeof f !== "function" || assign?.type !== "xstate.assign" || typeof assign.assignment !== "function") return undefined;
    out.push(assign.assignment as Assignment);
  }
  return out;
}

const noSpawn = (): never => {
  throw new Error("an assignment taken without the macrostep cannot spawn (machine/assignonly.ts)");
};

/** Takes each of `types` that qualifies without the macrostep; returns the types taken so. */
export function directAssign(machine: AnyStateMachine, types: readonly string[]): string[] {
  const direct = new Map<string, Assignment[]>();
  for (const type of types) {
    const a = assignOnly(machine, type);
    if (a) direct.set(type, a);
  }
  if (direct.size === 0) return [];
  const xstate = machine.transition.bind(machine);
  type Snap = { status: string; context: object };
  const transition = (snapshot: Snap, event: EventObject, scope: AnyActorScope): Snap => {
    const as = direct.get(event.type);
    if (!as || snapshot.status !== "active") return xstate(snapshot as never, event as never, scope) as unknown as Snap;
    let context = snapshot.context;
    for (const a of as) context = Object.assign({}, context, a({ context, event, self: scope.self, system: scope.system, spawn: noSpawn }));
    return { ...snapshot, context };
  };
  (machine as unknown as { transition: typeof transition }).transition = transition;
  return [...direct.keys()];
}
