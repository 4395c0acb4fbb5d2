/**
 * A machine's initial snapshot made directly, where xstate computes it as a macrostep.
 *
 * xstate's `getInitialSnapshot` (5.33.3, pinned) builds a snapshot for its error case, a
 * pre-initial one whose context an `assign` of the context factory fills, then enters the
 * initial state in a microstep (its entry actions, the state set, a clone) and runs a
 * macrostep for eventless transitions and raised events: ~80 µs of each process's creation
 * in the daemon, four snapshots and ~18 KiB allocated (bench/README.md, issue 18). For a
 * machine whose start does nothing but that (no entry action, invocation or eventless
 * transition on the root or its initial state, no initial-transition action, an atomic
 * initial state that is not final) the result is always the same snapshot but for its
 * context: the first actor's is xstate's own, kept as the template; each later one is that
 * template with the context the machine's own factory makes from the input (and its own
 * empty children, history and tags). `spec/unit/initialsnapshot.test.ts` compares it with
 * xstate's, field by field, for every machine that uses it.
 */
import type { AnyActorScope, AnyStateMachine } from "xstate";

interface Node {
  readonly type: string;
  readonly entry: readonly unknown[];
  readonly invoke: readonly unknown[];
  readonly always?: readonly unknown[];
  readonly initial?: { readonly target: readonly Node[]; readonly actions: readonly unknown[] };
}

/** Whether starting `machine` is only entering its initial state with a context: nothing runs, nothing is raised. */
export function startsQuietly(machine: AnyStateMachine): boolean {
  const root = machine.root as unknown as Node;
  const quiet = (n: Node): boolean => n.entry.length === 0 && n.invoke.length === 0 && !n.always?.length;
  const init = root.initial;
  return (
    quiet(root) &&
    init !== undefined &&
    init.actions.length === 0 &&
    init.target.length === 1 &&
    init.target[0]!.type === "atomic" &&
    quiet(init.target[0]!)
  );
}

/**
 * Makes `machine`'s later initial snapshots directly (see above). `context` is the machine's
 * context factory, taking the actor's input; a machine that does more at its start is left as it is.
 */
export function directInitialSnapshot<M extends AnyStateMachine, I>(machine: M, context: (input: I) => object): M {
  if (!startsQuietly(machine)) return machine;
  const xstate = machine.getInitialSnapshot.bind(machine);
  let template: ReturnType<M["getInitialSnapshot"]> | undefined;
  const direct = (scope: AnyActorScope, input: I): ReturnType<M["getInitialSnapshot"]> => {
    if (template) return { ...template, context: context(input), children: {}, historyValue: {}, tags: new Set(template.tags) };
    const s = xstate(scope, input) as ReturnType<M["getInitialSnapshot"]>;
    if (s.status === "active") template = s;
    return s;
  };
  (machine as unknown as { getInitialSnapshot: typeof direct }).getInitialSnapshot = direct;
  return machine;
}
