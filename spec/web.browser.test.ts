/**
 * `blinkd web` in a real browser: Debian's headless Chromium (spec/helpers/browser.ts)
 * opens the page of a real `blinkd web` watching a real daemon whose guests run the web
 * scene (spec/helpers/webscene.ts), and the demo's init tree under `blinkd run`. The tests
 * read what the page shows (the SVG tree's boxes and edges, the panels, the event list) and
 * write screenshots to test-artifacts/web/. Without Chromium they are skipped, saying so.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Control } from "../src/client/control.js";
import { NODE_BIN, ROOT, tempPrefix } from "./helpers/daemon.js";
import { namespace } from "./helpers/namespace.js";
import { Browser, CHROMIUM, type Page } from "./helpers/browser.js";
import { SCENE, type Cast } from "./helpers/webscene.js";
import { get, startWeb, type Web } from "./helpers/web.js";

if (!CHROMIUM) console.warn("spec/web.browser.test.ts: SKIPPED, no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)");

const node = (pid: number, attr: string): string => `document.querySelector('.node[data-pid="${pid}"]')?.getAttribute(${JSON.stringify(attr)})`;
const edgeParent = (pid: number): string => `document.querySelector('.edge[data-child="${pid}"]')?.getAttribute("data-parent")`;

describe.skipIf(!CHROMIUM)("blinkd web in Chromium, watching a real namespace", () => {
  const ns = namespace();
  let web: Web;
  let browser: Browser;
  let page: Page;
  let ctl: Control;
  const cast = {} as Cast;
  const run = async (upTo: string): Promise<void> => {
    cast.init ??= ns.init;
    const from = SCENE.findIndex((s) => s.name === done) + 1;
    const to = SCENE.findIndex((s) => s.name === upTo);
    if (to < 0) throw new Error(`no step ${upTo}`);
    for (const s of SCENE.slice(from, to + 1)) {
      await s.run(cast, ns, ctl);
      done = s.name;
    }
  };
  let done = "";

  beforeAll(async () => {
    ctl = await Control.connect(ns.daemon.socket);
    web = await startWeb(["--socket", ns.daemon.socket]);
    browser = await Browser.launch();
    page = await browser.newPage(1500, 1000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    ctl?.close();
  });

  it("refuses every request without the token, with a page that says what to open", async () => {
    // Every HTTP case of the refusal is in spec/web.server.test.ts; here, what a person sees.
    expect((await get(web.origin + "/")).status).toBe(403);
    // In the browser: the refusal page, not the view.
    await page.goto(web.origin + "/");
    const text = await page.eval<string>("document.body.innerText");
    expect(text).toContain("403: this page needs its token");
    expect(text).toContain("?token=");
    expect(await page.eval("document.getElementById('tree')")).toBe(null);
    await page.screenshot("refused.png");
  });

  it("draws the tree: parents, groups and sessions, threads under their process, parked calls, signals, eventfds", async () => {
    await run("a starts a second thread");
    await page.goto(web.url);
    // The token moved into a cookie and out of the address bar.
    expect(await page.eval("location.search")).toBe("");
    await page.waitFor(`document.querySelectorAll(".node").length === 4`, "four processes");
    expect(await page.eval(edgeParent(2))).toBe("1");
    expect(await page.eval(edgeParent(3))).toBe("2");
    expect(await page.eval(edgeParent(4))).toBe("3");
    expect(await page.eval(`[1, 2, 3, 4].map((p) => { const n = document.querySelector('.node[data-pid="' + p + '"]'); return [n.dataset.pgid, n.dataset.sid]; })`)).toEqual([
      ["0", "0"],
      ["2", "0"],
      ["3", "3"],
      ["3", "3"],
    ]);
    expect(await page.eval(node(2, "data-threads"))).toBe("2 5");
    // c is parked in eventfd_read on the eventfd it shares with b.
    expect(await page.eval(`document.querySelector('.node[data-pid="4"] [data-actor="thread:4"]').classList.contains("parked")`)).toBe(true);
    expect(await page.eval(`document.querySelector('.node[data-pid="4"] [data-actor="thread:4"] .call').textContent`)).toMatch(/^eventfd_read\(/);
    await page.waitFor(`document.querySelector(".efd .waiters")?.textContent === "thread 4 in eventfd_read"`, "c waiting on the eventfd");
    expect(await page.eval(`document.querySelector(".efd .counter").textContent`)).toBe("0");
    expect(await page.eval(`document.querySelector(".efd").textContent`)).toContain("held by 3 (fd 0), 4 (fd 0)");
    // a blocks SIGUSR1, which is pending for the process.
    const sigs = await page.eval<string>(`[...document.querySelectorAll('.node[data-pid="2"] .sig')].map((e) => e.textContent).join(" | ")`);
    expect(sigs).toContain("blocked USR1");
    expect(sigs).toContain("process pending USR1");
    // Sessions and groups, in the legend.
    const legend = await page.eval<string>(`document.getElementById("legend").innerText`);
    expect(legend).toContain("session 3");
    expect(legend).toContain("group 3 {3, 4}");
    // Selecting a process shows its actor's state and context; its threads' masks and calls.
    await page.click('.node[data-pid="2"] .box');
    await page.waitFor(`document.getElementById("details").innerText.includes("proc:2")`, "a's details");
    const details = await page.eval<string>(`document.getElementById("details").innerText`);
    expect(details).toContain("thread 5");
    expect(details).toMatch(/blocked\s+USR1/);
    await page.click('.node[data-pid="4"] .box');
    await page.waitFor(`document.getElementById("details").innerText.includes("eventfd_read(")`, "c's parked call in its details");
    expect(page.errors).toEqual([]);
    await page.screenshot("tree.png");
    // A click on the background clears the selection (the README's picture: docs/web-view.png).
    await page.click(".tree-svg");
    await page.waitFor(`document.getElementById("details").innerText.includes("Click a process")`, "no selection");
    await page.screenshot("tree-unselected.png");
  });

  it("shows state changes as they arrive: the woken reader, a stop, an orphan reparented to init, a zombie", async () => {
    await run("b writes 3 to the eventfd: c's read returns");
    await page.waitFor(`!document.querySelector('.node[data-pid="4"] [data-actor="thread:4"]').classList.contains("parked")`, "c's read answered");
    await page.waitFor(`document.querySelector(".efd .waiters")?.textContent === "none"`, "no waiter left on the eventfd");
    await run("init stops b");
    await page.waitFor(`${node(3, "data-state")} === "stopped"`, "b stopped");
    await run("a exits: b is orphaned to init");
    // The transition is drawn on the tree as it happens.
    await page.waitFor(`[...document.querySelectorAll(".flash-text")].some((e) => e.textContent.startsWith("DIE: running → zombie"))`, "a's death drawn on the tree", 5000);
    await page.waitFor(`${node(2, "data-state")} === "zombie"`, "a a zombie");
    await page.waitFor(`${edgeParent(3)} === "1"`, "b's edge from init");
    expect(await page.eval(node(3, "data-ppid"))).toBe("1");
    await page.screenshot("live.png");
    expect(page.errors).toEqual([]);
  });

  it("filters the event stream by pid and by kind", async () => {
    await page.type("#f-pid", "4");
    await page.waitFor(`document.querySelectorAll("#events .ev").length > 0 && [...document.querySelectorAll("#events .ev")].every((e) => e.dataset.pid === "4")`, "only pid 4's records");
    const kinds = await page.eval<string[]>(`[...new Set([...document.querySelectorAll("#events .ev")].map((e) => e.dataset.kind))].sort()`);
    expect(kinds).toEqual(["call", "reply", "spawn", "transition", "update"]);
    for (const k of ["spawn", "update", "call", "reply"]) await page.click(`#f-kinds input[value="${k}"]`);
    await page.waitFor(`[...document.querySelectorAll("#events .ev")].every((e) => e.dataset.kind === "transition" && e.dataset.pid === "4")`, "only pid 4's transitions");
    const texts = await page.eval<string[]>(`[...document.querySelectorAll("#events .ev")].map((e) => e.querySelector(".actor").textContent + " " + e.querySelector(".what").textContent)`);
    // A transition's text ends with the context fields it changed (two spaces before them).
    expect(texts.map((t) => t.split("  ")[0])).toEqual(["proc:4 CLAIM: embryo → running", "thread:4 CLAIM: embryo → running"]);
    await page.type("#f-pid", "");
    for (const k of ["spawn", "update", "call", "reply"]) await page.click(`#f-kinds input[value="${k}"]`);
    await page.waitFor(`new Set([...document.querySelectorAll("#events .ev")].map((e) => e.dataset.pid)).size > 3`, "every pid's records again");
  });

  it("pauses and steps back through the recorded events: the tree as it was at event N", async () => {
    await run("c exits with 5: a zombie of b");
    await page.waitFor(`${node(4, "data-state")} === "zombie"`, "c a zombie");
    const recs = await ctl.events(0);
    const cDeath = recs.find((r) => r.actor === "proc:4" && r.kind === "transition" && r.to === "zombie")!;
    const aDeath = recs.find((r) => r.actor === "proc:2" && r.kind === "transition" && r.to === "zombie")!;
    const aReap = recs.find((r) => r.actor === "proc:2" && r.kind === "transition" && r.to === "reaped")!;
    expect(await page.eval(`document.querySelector('.node[data-pid="2"]')`)).toBe(null);
    // Pause on c's death from the event list, then step back one record.
    await page.click("#pause");
    await page.waitFor(`document.querySelector('#events .ev[data-seq="${cDeath.seq}"]')`, `record #${cDeath.seq} in the list`);
    await page.click(`#events .ev[data-seq="${cDeath.seq}"]`);
    await page.waitFor(`document.getElementById("status").textContent === "paused at #${cDeath.seq}"`, `the view paused at #${cDeath.seq}`);
    expect(await page.eval(node(4, "data-state"))).toBe("zombie");
    await page.click("#back");
    await page.waitFor(`document.getElementById("status").textContent === "paused at #${cDeath.seq - 1}"`, "one record back");
    await page.waitFor(`${node(4, "data-state")} === "running"`, "c running again, one record before its death");
    await page.click("#fwd");
    await page.waitFor(`${node(4, "data-state")} === "zombie"`, "c a zombie again, stepping forward");
    // Before a's death: a is back, running, and b is its stopped child, not init's.
    await page.eval(`(() => { const s = document.getElementById("slider"); s.value = ${aDeath.seq - 1}; s.dispatchEvent(new Event("input")); })()`);
    await page.waitFor(`${node(2, "data-state")} === "running"`, "a alive before its death");
    expect(await page.eval(edgeParent(3))).toBe("2");
    expect(await page.eval(node(3, "data-state"))).toBe("stopped");
    // At a's exit_group call (the call is recorded before the kernel acts on it), both of its threads are still there.
    const exitCall = recs.find((r) => r.pid === 2 && r.kind === "call" && r.event === "exit_group")!;
    await page.eval(`(() => { const s = document.getElementById("slider"); s.value = ${exitCall.seq}; s.dispatchEvent(new Event("input")); })()`);
    await page.waitFor(`${node(2, "data-threads")} === "2 5"`, "a's two threads at its exit_group call");
    expect(await page.eval(`document.querySelector('.node[data-pid="2"] [data-actor="thread:2"] .call').textContent`)).toBe("exit_group(0)");
    // Between a's death and its reaping: a zombie, b already init's.
    await page.eval(`(() => { const s = document.getElementById("slider"); s.value = ${aReap.seq - 1}; s.dispatchEvent(new Event("input")); })()`);
    await page.waitFor(`${node(2, "data-state")} === "zombie" && ${edgeParent(3)} === "1"`, "a a zombie, b reparented");
    // The record at the cursor is drawn on the tree.
    await page.eval(`(() => { const s = document.getElementById("slider"); s.value = ${aDeath.seq}; s.dispatchEvent(new Event("input")); })()`);
    await page.waitFor(`[...document.querySelectorAll(".flash-text")].some((e) => e.textContent === "DIE: running → zombie")`, "a's death drawn at its record");
    await page.screenshot("timetravel.png");
    await page.colorScheme("dark");
    await page.screenshot("timetravel-dark.png");
    await page.colorScheme("light");
    // Live again: the namespace as it is now.
    await page.click("#live");
    await page.waitFor(`document.getElementById("status").textContent === "live" && !document.querySelector('.node[data-pid="2"]')`, "the present");
    expect(page.errors).toEqual([]);
  });
});

describe.skipIf(!CHROMIUM)("blinkd web on the demo: init reaps an orphan, watched as it happens", () => {
  it("shows leaf reparented to init, then gone when init reaps it; after the namespace ends the page still steps through it", async () => {
    const prefix = tempPrefix();
    const gate = path.join(prefix, "start-the-tree");
    const run = spawn(process.execPath, [...NODE_BIN, "run", "--prefix", prefix, "--", process.execPath, path.join(ROOT, "dist/examples/init-tree.js")], {
      env: { ...process.env, HOLD_MS: "2500", DEMO_GATE: gate },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const ended = new Promise<number | null>((r) => run.once("exit", (c) => r(c)));
    let web: Web | undefined;
    const browser = await Browser.launch();
    try {
      const until = Date.now() + 10_000;
      while (!fs.existsSync(path.join(prefix, "blinkd.sock"))) {
        if (Date.now() > until) throw new Error("blinkd run never made its socket");
        await new Promise((r) => setTimeout(r, 50));
      }
      web = await startWeb(["--prefix", prefix]);
      const page = await browser.newPage(1300, 800);
      await page.goto(web.url);
      await web.waitLine(/1 page watching/);
      await page.waitFor(`document.querySelectorAll(".node").length === 1`, "init alone");
      fs.writeFileSync(gate, "");
      await page.waitFor(`${edgeParent(3)} === "2"`, "leaf under middle", 15_000);
      await page.waitFor(`${edgeParent(3)} === "1"`, "leaf orphaned to init", 15_000);
      // middle's exit reparents leaf before init reaps middle (exit_notify's forget_original_parent
      // comes first): the page may draw middle as a zombie for a moment, then it is gone.
      await page.waitFor(`!document.querySelector('.node[data-pid="2"]')`, "middle reaped by init", 15_000);
      expect(await page.eval(`document.querySelector('.node[data-pid="2"]')`)).toBe(null);
      await page.screenshot("demo-orphan.png");
      await page.waitFor(`${node(3, "data-state")} === "zombie" || !document.querySelector('.node[data-pid="3"]')`, "leaf exited", 15_000);
      expect(await ended).toBe(0);
      await page.waitFor(`document.getElementById("status").dataset.state === "gone"`, "the daemon gone");
      await page.waitFor(`document.getElementById("events").innerText.includes("REAP: zombie → reaped")`, "the reaping in the event list");
      // The history stays: step to the record where leaf got init as its parent.
      const seq = await page.eval<string>(`[...document.querySelectorAll("#events .ev")].find((e) => e.querySelector(".actor").textContent === "proc:3" && e.querySelector(".what").textContent.startsWith("REPARENT"))?.dataset.seq`);
      expect(seq).toMatch(/^\d+$/);
      await page.click(`#events .ev[data-seq="${seq}"]`);
      await page.waitFor(`${edgeParent(3)} === "1" && ${node(3, "data-state")} === "running"`, "leaf under init at its reparenting");
      await page.click("#back");
      await page.waitFor(`${edgeParent(3)} === "2"`, "leaf under middle one record before");
      expect(page.errors).toEqual([]);
    } finally {
      await browser.close();
      await web?.stop();
      run.kill("SIGKILL");
    }
  }, 60_000);
});

describe.skipIf(!!CHROMIUM)("blinkd web in Chromium", () => {
  it.skip("SKIPPED: no Chromium is installed (apt-get install chromium); the browser tests did not run", () => {});
});
