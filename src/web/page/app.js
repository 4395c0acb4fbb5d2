// The page: the history from the server's event stream (/api/stream), the tree at the event
// the time bar points at (the newest while live), and the controls. Everything it shows
// comes from the daemon's control calls `inspect` and `events`; nothing here can change the
// namespace (the server answers GET only).
import { History } from "./model.js";
import { TreeView } from "./tree.js";
import { detailsHtml, eventfdsHtml, legendHtml, paintSwatches } from "./details.js";
import { Filter, eventsHtml, flashText } from "./events.js";

const $ = (id) => document.getElementById(id);
const FLASH_MS = 1800;

let hist = new History();
let live = true;
let cursor = 0;
let selected;
let gone = null;
let streaming = false;
let flashes = [];
const filter = new Filter();
const tree = new TreeView($("tree"), (actor) => {
  selected = actor;
  schedule();
});

let queued = false;
let eventsDirty = true;
function schedule(events = false) {
  eventsDirty ||= events;
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    render();
  });
}

function statusText() {
  if (gone) return { state: "gone", text: `daemon gone: ${gone}` };
  if (!streaming) return { state: "connecting", text: "connecting…" };
  return live ? { state: "live", text: "live" } : { state: "paused", text: `paused at #${cursor}` };
}

/** Replaces an element's content only when it changed (an open <details> or a selection survives). */
function setHtml(el, html) {
  for (const f of el.querySelectorAll(".flash")) f.classList.remove("flash");
  if (el.__html === html) return;
  el.__html = html;
  el.innerHTML = html;
}

function render() {
  const at = live ? hist.last : cursor;
  const world = hist.at(at);
  const st = statusText();
  $("status").textContent = st.text;
  $("status").dataset.state = st.state;
  document.body.dataset.mode = live ? "live" : "paused";
  const slider = $("slider");
  slider.min = String(hist.earliest);
  slider.max = String(hist.last);
  slider.value = String(at);
  const rec = hist.record(at);
  $("at").textContent = world ? `event #${at} of ${hist.last}${rec ? ` · ${rec.t} ms` : ""}${world.gaps ? ` · ${world.gaps} records lost before it: approximate` : ""}` : "waiting for the first snapshot…";
  if (!world) return;
  const now = performance.now();
  flashes = flashes.filter((f) => f.until > now);
  const flash = live ? flashes : rec && rec.kind !== "reply" ? [{ actor: rec.actor, pid: rec.pid, kind: rec.kind, text: flashText(rec) }] : [];
  tree.render(world, { selected, flash, animate: live });
  $("counts").textContent = `${world.procs.size} processes · ${world.threads.size} threads · ${world.eventfds.size} eventfds`;
  setHtml($("details"), detailsHtml(world, selected));
  setHtml($("eventfds"), eventfdsHtml(world));
  // An eventfd's records glow on its entry in the panel.
  for (const f of flash) if (f.actor.startsWith("eventfd:")) $("eventfds").querySelector(`[data-eventfd="${f.actor.slice(8)}"]`)?.classList.add("flash");
  setHtml($("legend"), legendHtml(world));
  paintSwatches($("details"));
  paintSwatches($("legend"));
  if (eventsDirty) {
    eventsDirty = false;
    const list = $("events");
    const { html, shown, total } = eventsHtml(hist.records, filter, live ? Infinity : cursor);
    list.innerHTML = html;
    $("f-count").textContent = `${total} of ${hist.records.length} records${shown < total ? ` (the last ${shown} shown)` : ""}`;
    if (live) list.scrollTop = list.scrollHeight;
    else list.querySelector(".cursor")?.scrollIntoView({ block: "nearest" });
  }
}

function pause(at = hist.last) {
  live = false;
  cursor = Math.max(hist.earliest, Math.min(at, hist.last));
  schedule(true);
}

/** The next or previous record the filter shows, from the cursor. */
function step(dir) {
  if (live) pause();
  const recs = hist.records;
  let i = dir < 0 ? hist.indexAfter(cursor - 1) - 1 : hist.indexAfter(cursor);
  for (; i >= 0 && i < recs.length; i += dir) if (filter.accepts(recs[i]) && recs[i].seq >= hist.earliest) return pause(recs[i].seq);
}

$("pause").addEventListener("click", () => pause());
$("live").addEventListener("click", () => {
  live = true;
  schedule(true);
});
$("first").addEventListener("click", () => pause(hist.earliest));
$("back").addEventListener("click", () => step(-1));
$("fwd").addEventListener("click", () => step(1));
$("slider").addEventListener("input", (e) => pause(Number(e.target.value)));
$("events").addEventListener("click", (e) => {
  const row = e.target.closest("[data-seq]");
  if (row) pause(Number(row.dataset.seq));
});
document.addEventListener("keydown", (e) => {
  // Typing in the pid filter, or the slider's own arrow keys, are not steps.
  if (e.target instanceof HTMLInputElement && e.target.type !== "checkbox") return;
  if (e.key === "ArrowLeft") step(-1);
  else if (e.key === "ArrowRight") step(1);
  else if (e.key === " ") {
    e.preventDefault();
    if (live) pause();
    else $("live").click();
  } else return;
});
$("f-pid").addEventListener("input", (e) => {
  const v = e.target.value.trim();
  filter.pid = v === "" || !Number.isInteger(Number(v)) ? undefined : Number(v);
  schedule(true);
});
for (const box of $("f-kinds").querySelectorAll("input"))
  box.addEventListener("change", () => {
    if (box.checked) filter.kinds.add(box.value);
    else filter.kinds.delete(box.value);
    schedule(true);
  });
$("check").addEventListener("click", async () => {
  const out = $("check-result");
  out.textContent = "checking…";
  try {
    const r = await (await fetch("/api/check")).json();
    out.textContent = r.error ? r.error : r.ok ? "check: ok" : `check: ${r.problems.length} problem(s): ${r.problems.join("; ")}`;
    out.dataset.ok = String(!!r.ok);
  } catch (e) {
    out.textContent = `check failed: ${e.message}`;
  }
});

let flashTimer;
/** One render after the last flash has run out, so that it goes away even when nothing else happens. */
function clearFlashesLater() {
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => schedule(), FLASH_MS + 50);
}

const es = new EventSource("/api/stream");
es.addEventListener("hello", (e) => {
  // A new stream (first, or after a reconnection) sends the whole history again.
  const h = JSON.parse(e.data);
  hist = new History();
  gone = h.gone;
  streaming = false;
  document.title = `blinkd: ${h.socket}`;
  schedule(true);
});
es.addEventListener("live", () => {
  streaming = true;
  schedule(true);
});
es.addEventListener("record", (e) => {
  const r = JSON.parse(e.data);
  hist.addRecord(r);
  if (streaming && live && r.kind !== "reply") flashes.push({ actor: r.actor, pid: r.pid, kind: r.kind, text: flashText(r), until: performance.now() + FLASH_MS });
  if (streaming) clearFlashesLater();
  schedule(true);
});
es.addEventListener("snapshot", (e) => {
  hist.addSnapshot(JSON.parse(e.data).actors);
  schedule();
});
es.addEventListener("gone", (e) => {
  gone = JSON.parse(e.data).reason;
  streaming = true;
  schedule();
});
es.addEventListener("error", () => {
  if (!gone) streaming = false;
  schedule();
});
