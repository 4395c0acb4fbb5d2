/**
 * The whole protocol: every family's calls in one table, checked at load (numbers unique
 * and inside their family's range), and the version hash both sides exchange in `hello`.
 * Adding a family is one line here; adding a call touches only its family's file.
 */
import { createHash } from "node:crypto";
import type { CallDef, Family, FieldsTs } from "./schema.js";
import { ranges } from "./schema.js";
import { session } from "./calls/session.js";
import { process } from "./calls/process.js";
import { wait } from "./calls/wait.js";
import { control } from "./calls/control.js";
import { signal } from "./calls/signal.js";
import { group } from "./calls/group.js";
import { eventfd } from "./calls/eventfd.js";
import { procfs } from "./calls/procfs.js";
import { ptrace } from "./calls/ptrace.js";

export const families = { session, process, wait, signal, group, eventfd, procfs, ptrace, control } as const;

type Families = typeof families;
type Union<T> = T[keyof T];
/** name → definition, for every call. */
export type Calls = { [F in keyof Families]: Families[F] } extends infer X
  ? { [K in Union<{ [F in keyof X]: keyof X[F] }> & string]: Union<{ [F in keyof X]: K extends keyof X[F] ? X[F][K] : never }> }
  : never;
export type CallName = keyof Calls & string;
export type ArgsOf<N extends CallName> = Calls[N] extends CallDef ? FieldsTs<Calls[N]["args"]> : never;
export type OutOf<N extends CallName> = Calls[N] extends CallDef ? FieldsTs<Calls[N]["out"]> : never;

export interface CallEntry extends CallDef {
  readonly name: string;
  readonly family: string;
  readonly argNames: readonly string[];
  readonly outNames: readonly string[];
}

function buildTable(): { byNr: Map<number, CallEntry>; byName: Map<string, CallEntry> } {
  const byNr = new Map<number, CallEntry>();
  const byName = new Map<string, CallEntry>();
  for (const [fam, defs] of Object.entries(families) as [keyof typeof ranges, Family][]) {
    const [lo, hi] = ranges[fam];
    for (const [name, def] of Object.entries(defs)) {
      if (def.nr < lo || def.nr > hi) throw new Error(`protocol: ${name} has nr ${def.nr}, outside ${fam}'s range ${lo}-${hi}`);
      const clash = byNr.get(def.nr);
      if (clash) throw new Error(`protocol: ${name} and ${clash.name} share nr ${def.nr}`);
      if (byName.has(name)) throw new Error(`protocol: two calls are named ${name}`);
      const entry: CallEntry = { ...def, name, family: fam, argNames: Object.keys(def.args), outNames: Object.keys(def.out) };
      byNr.set(def.nr, entry);
      byName.set(name, entry);
    }
  }
  return { byNr, byName };
}

export const table = buildTable();

export function callByName<N extends CallName>(name: N): CallEntry {
  const e = table.byName.get(name);
  if (!e) throw new Error(`protocol: no call named ${name}`);
  return e;
}

/**
 * The protocol version: a hash of everything that decides the bytes on the wire
 * (numbers, names, field names and types, in order), not of the docs. The tag names the
 * message kinds' revision: "blinkd/2" has the post ([4, …], spec/protocol.md §4.5), so a
 * client that posts meets a daemon that knows posts, or is told at hello.
 */
export const PROTOCOL_VERSION: string = (() => {
  const canon = [...table.byNr.values()]
    .sort((a, b) => a.nr - b.nr)
    .map((c) => [c.nr, c.name, Object.entries(c.args), Object.entries(c.out), c.blocks, c.role]);
  return createHash("sha256").update(JSON.stringify(["blinkd/2", canon])).digest("hex").slice(0, 16);
})();
