/**
 * The web view's time travel: the tree at event N is the latest `inspect` snapshot at or
 * before N with the `events` records after it replayed (src/web/page/model.js). Against a
 * real daemon and real guests running the web scene, every snapshot taken later must be
 * exactly what replaying the records onto an earlier one (or onto the empty namespace, from
 * record 1) gives: processes, their state and context, threads, their masks, pending
 * signals and calls in the kernel, eventfds and their counters.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Control } from "../src/client/control.js";
import type { ActorRecord, EventRecord } from "../src/protocol/records.js";
import { History, apply, comparable, copyWorld, emptyWorld, fromSnapshot, type World } from "../src/web/page/model.js";
import { namespace } from "./helpers/namespace.js";
import { cli } from "./helpers/daemon.js";
import { SCENE, type Cast } from "./helpers/webscene.js";

const ns = namespace();
const records: EventRecord[] = [];
let lost = 0;
const snapshots: { step: string; seq: number; actors: ActorRecord[] }[] = [];
let ctl: Control;
let inspectText = "";
let inspectJson: ActorRecord[] = [];
let eventsJson: EventRecord[] = [];
const stop = new AbortController();
let following: Promise<void>;

beforeAll(async () => {
  ctl = await Control.connect(ns.daemon.socket);
  following = ctl.follow(0, (r) => void (r.kind === "lost" ? (lost += r.count) : records.push(r)), stop.signal);
  const take = async (step: string): Promise<void> => {
    const actors = await ctl.inspect(0);
    snapshots.push({ step, seq: actors[0]!.seq!, actors });
  };
  await take("start");
  const cast: Cast = { init: ns.init };
  for (const s of SCENE) {
    await s.run(cast, ns, ctl);
    await take(s.name);
    if (s.name === "c blocks reading the eventfd") {
      inspectText = (await cli(["inspect", "--all", "--socket", ns.daemon.socket])).stdout;
      inspectJson = JSON.parse((await cli(["inspect", "--all", "--json", "--socket", ns.daemon.socket])).stdout) as ActorRecord[];
    }
  }
  eventsJson = (await cli(["events", "--json", "--socket", ns.daemon.socket])).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as EventRecord);
}, 60_000);

afterAll(async () => {
  stop.abort();
  await following;
  ctl.close();
});

const replay = (base: World, upTo: number): World => {
  const w = copyWorld(base);
  for (const r of records) if (r.seq <= upTo) apply(w, r);
  return w;
};

describe("web view: the tree at event N from a snapshot and the records after it", () => {
  it("the scene shows what the page draws (so the comparisons below are not about an empty namespace)", () => {
    expect(lost).toBe(0);
    expect(records[0]!.seq).toBe(1);
    const at = (step: string): World => fromSnapshot(snapshots.find((s) => s.step === step)!.actors);
    const parkedRead = at("c blocks reading the eventfd");
    const c = [...parkedRead.procs.values()].find((p) => p.pid === 4)!;
    expect(c.context.ppid).toBe(3);
    expect(parkedRead.threads.get(4)!.calls.map((k) => k.call)).toEqual(["eventfd_read"]);
    expect([...parkedRead.eventfds.values()].map((e) => [e.context.count, e.holders.map((h) => h.pid), e.waiters])).toEqual([["0x0", [3, 4], 1]]);
    const pending = at("init sends a SIGUSR1, which stays pending");
    expect(pending.threads.get(2)!.context.blocked).toBe("0x200");
    expect((pending.procs.get(2)!.context.pending as { mask: string }).mask).toBe("0x200");
    expect([...at("a starts a second thread").threads.values()].filter((t) => t.pid === 2).length).toBe(2);
    expect(at("b writes 3 to the eventfd: c's read returns").threads.get(4)!.calls).toEqual([]);
    expect(at("init stops b").procs.get(3)!.context.stopped).toBe(19);
    const orphaned = at("a exits: b is orphaned to init");
    expect([orphaned.procs.get(2)!.state, orphaned.procs.get(3)!.context.ppid]).toEqual(["zombie", 1]);
    expect(at("init reaps a").procs.has(2)).toBe(false);
    expect(at("c exits with 5: a zombie of b").procs.get(4)!.context.wstatus).toBe(5 << 8);
    expect([...at("b leads a new session").procs.values()].map((p) => [p.pid, p.context.pgid, p.context.sid])).toEqual([
      [1, 0, 0],
      [2, 2, 0],
      [3, 3, 3],
    ]);
  });

  it("replaying the records from every snapshot gives every later snapshot", () => {
    let compared = 0;
    for (let i = 0; i < snapshots.length; i++)
      for (let j = i + 1; j < snapshots.length; j++) {
        const got = comparable(replay(fromSnapshot(snapshots[i]!.actors), snapshots[j]!.seq));
        expect(got, `from "${snapshots[i]!.step}" (#${snapshots[i]!.seq}) to "${snapshots[j]!.step}" (#${snapshots[j]!.seq})`).toEqual(comparable(fromSnapshot(snapshots[j]!.actors)));
        compared++;
      }
    expect(compared).toBe((snapshots.length * (snapshots.length - 1)) / 2);
  });

  it("replaying from the empty namespace (record 1 on) gives every snapshot", () => {
    for (const s of snapshots) expect(comparable(replay(emptyWorld(), s.seq)), `at "${s.step}" (#${s.seq})`).toEqual(comparable(fromSnapshot(s.actors)));
  });

  it("History.at steps to any record, back and forth, from the snapshots it holds", () => {
    const h = new History();
    for (const r of records) h.addRecord(r);
    // Every other snapshot only, so that most answers replay records from an earlier one.
    for (const [k, s] of snapshots.entries()) if (k % 2 === 0) h.addSnapshot(s.actors);
    expect(h.earliest).toBe(0);
    const order = [...snapshots.keys()].reverse().concat([...snapshots.keys()]);
    for (const k of order) {
      const s = snapshots[k]!;
      expect(comparable(h.at(s.seq)!), `at "${s.step}" (#${s.seq})`).toEqual(comparable(fromSnapshot(s.actors)));
    }
    // Between snapshots: the world one record before c's death still has c running, the one at it has c a zombie.
    const death = records.find((r) => r.actor === "proc:4" && r.kind === "transition" && r.to === "zombie")!;
    expect(h.at(death.seq - 1)!.procs.get(4)!.state).toBe("running");
    expect(h.at(death.seq)!.procs.get(4)!.state).toBe("zombie");
    expect(h.at(death.seq)!.procs.get(4)!.context.wstatus).toBe(5 << 8);
  });

  it("the command line gives the same: inspect --all shows the eventfd, its holders and waiter; events --json carries changes and req", () => {
    expect(inspectText).toContain("eventfd:1 (eventfd): ");
    expect(inspectText).toContain("  held by: 3 (fd 0), 4 (fd 0)\n  waiters: 1\n");
    const efd = inspectJson.find((a) => a.id === "eventfd:1")!;
    expect([efd.kind, efd.context, efd.holders, efd.waiters, efd.flags]).toEqual([
      "eventfd",
      { id: 1, count: "0x0", semaphore: false },
      [
        { pid: 3, fd: 0, cloexec: false },
        { pid: 4, fd: 0, cloexec: false },
      ],
      1,
      "02",
    ]);
    expect(inspectJson.find((a) => a.id === "thread:4")!.parked).toEqual([{ seq: expect.any(Number), call: "eventfd_read", args: { fd: 0, size: 8 } }]);
    const reparent = eventsJson.find((r) => r.actor === "proc:3" && r.event === "REPARENT" && r.changes?.ppid === 1)!;
    expect(reparent.changes).toEqual({ ppid: 1, parentTid: 1 });
    const call = eventsJson.find((r) => r.kind === "call" && r.event === "eventfd_read")!;
    const reply = eventsJson.find((r) => r.kind === "reply" && r.event === "eventfd_read")!;
    expect([call.req, reply.actor]).toEqual([reply.req, call.actor]);
    expect(eventsJson.map((r) => r.seq)).toEqual(records.filter((r) => r.seq <= eventsJson[eventsJson.length - 1]!.seq).map((r) => r.seq));
  });

  it("a world built from records alone knows nothing of descriptor tables (they come from snapshots)", () => {
    const last = snapshots[snapshots.length - 1]!;
    const w = replay(emptyWorld(), last.seq);
    expect([...w.eventfds.values()].map((e) => e.holders)).toEqual([[]]);
    expect([...fromSnapshot(last.actors).eventfds.values()].map((e) => e.holders.map((h) => h.pid))).toEqual([[3]]);
  });
});
