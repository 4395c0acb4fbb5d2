// Types of model.js (plain JavaScript served to the browser as it is), for the TypeScript tests.
import type { ActorRecord, EventRecord } from "../../protocol/records.js";

export interface Call {
  req: number | undefined;
  call: string;
  args: Record<string, unknown>;
}
export interface Proc {
  pid: number;
  state: string;
  context: Record<string, unknown>;
  fds: unknown[];
}
export interface Thread {
  tid: number;
  pid: number;
  state: string;
  context: Record<string, unknown>;
  calls: Call[];
}
export interface Efd {
  id: number;
  state: string;
  context: Record<string, unknown>;
  holders: { pid: number; fd: number; cloexec: boolean }[];
  waiters: number;
  flags: string | undefined;
}
export interface World {
  seq: number;
  gaps: number;
  ns: { state: unknown; context: Record<string, unknown> };
  procs: Map<number, Proc>;
  threads: Map<number, Thread>;
  eventfds: Map<number, Efd>;
}
export type Rec = EventRecord | { kind: "lost"; count: number };

export function emptyWorld(): World;
export function fromSnapshot(actors: ActorRecord[]): World;
export function copyWorld(w: World): World;
export function stateText(v: unknown): string;
export function apply(w: World, r: Rec): World;
export function comparable(w: World): unknown;

export class History {
  constructor(limit?: number);
  readonly records: EventRecord[];
  readonly snapshots: { seq: number; world: World }[];
  readonly first: number;
  readonly last: number;
  readonly earliest: number;
  addRecord(r: Rec): void;
  addSnapshot(actors: ActorRecord[]): World;
  indexAfter(seq: number): number;
  record(seq: number): EventRecord | undefined;
  at(n: number): World | undefined;
}
