// The side panels: the selected actor's state and context, the eventfd objects, and the
// legend of sessions and process groups. Plain DOM from strings; every value is escaped.
import { esc } from "./html.js";
import { counterText, maskText, signame, statusText } from "./signals.js";
import { callText, groupHue, shownState } from "./tree.js";
import { stateName } from "./events.js";

const show = (v) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

function table(rows) {
  return `<table class="kv">${rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`)
    .join("")}</table>`;
}

const sigs = (m) => esc(maskText(m) || "none");

function queueText(q) {
  if (!q || !q.q || !q.q.length) return sigs(q?.mask);
  return esc(q.q.map((i) => `${signame(i.signo).replace(/^SIG/, "")} from ${i.pid}`).join(", "));
}

function threadHtml(t) {
  const c = t.context;
  return `<div class="thread-detail" data-actor="thread:${t.tid}">
<h3>thread ${t.tid} <span class="state">${esc(t.state)}</span>${c.comm ? ` <span class="muted">${esc(c.comm)}</span>` : ""}</h3>
${table([
  ["calls in the kernel", t.calls.length ? t.calls.map((k) => `<code>${esc(callText(k, 200))}</code>${k.req !== undefined ? ` <span class="muted">#${k.req}</span>` : ""}`).join("<br>") : "none"],
  ["blocked", sigs(c.blocked)],
  ["pending (thread)", queueText(c.pending)],
  c.waiting && c.waiting !== "0x0" ? ["sigwait set", sigs(c.waiting)] : [undefined, undefined],
  c.watched && c.watched !== "0x0" ? ["signalfd set", sigs(c.watched)] : [undefined, undefined],
].filter(([k]) => k))}
</div>`;
}

/** The selected actor, as the world shows it at this event; `raw` is its record from the last snapshot for the JSON view. */
export function detailsHtml(world, selected) {
  if (!selected) return `<p class="hint">Click a process or a thread in the tree.</p>`;
  const [kind, n] = selected.split(":");
  const num = Number(n);
  let p;
  if (kind === "proc") p = world.procs.get(num);
  else if (kind === "thread") {
    const t = world.threads.get(num);
    p = t ? world.procs.get(t.pid) : undefined;
  }
  if (!p) return `<p class="hint">${esc(selected)} is not in the namespace at this event.</p>`;
  const c = p.context;
  const threads = [...world.threads.values()].filter((t) => t.pid === p.pid).sort((a, b) => a.tid - b.tid);
  const fds = (p.fds ?? []).map((f) => `fd ${f.fd}: ${esc(f.target)}${f.cloexec ? " (cloexec)" : ""}`).join("<br>");
  return `<h3>${esc(c.comm || "?")} <span class="pid">${p.pid}</span> <span class="state state-${esc(shownState(p))}">${esc(shownState(p))}</span></h3>
${table([
  ["actor", `proc:${p.pid} <span class="muted">(xstate: ${esc(p.state)})</span>`],
  ["parent", esc(show(c.ppid))],
  ["process group", `<span class="swatch" data-hue="${groupHue(c.pgid ?? 0)}"></span>${esc(show(c.pgid))}${c.pgid === p.pid ? " (leader)" : ""}`],
  ["session", `${esc(show(c.sid))}${c.sid === p.pid ? " (leader)" : ""}`],
  ["exe", `<code>${esc(show(c.exe))}</code>`],
  ["argv", `<code>${esc((c.argv ?? []).join(" "))}</code>`],
  ["host pid", esc(show(c.hostpid))],
  c.wstatus !== null && c.wstatus !== undefined ? ["wait status", `${esc(statusText(c.wstatus))}${c.statusAssumed ? " (assumed)" : ""}`] : [undefined, undefined],
  c.stopped ? ["stopped by", esc(signame(c.stopped))] : [undefined, undefined],
  c.waitReport ? ["for wait to report", esc(`${c.waitReport.kind} (${signame(c.waitReport.signo)})`)] : [undefined, undefined],
  ["pending (process)", queueText(c.pending)],
  ["ignored", sigs(c.sigIgnored)],
  ["caught", sigs(c.sigCaught)],
  ["subreaper", c.childSubreaper ? "yes" : "no"],
  ["descriptors", fds || "none"],
].filter(([k]) => k))}
${threads.map(threadHtml).join("")}
<details class="raw"><summary>context as <code>blinkd inspect ${p.pid} --json</code> shows it</summary><pre>${esc(JSON.stringify(c, null, 2))}</pre></details>`;
}

/**
 * Colours the group swatches in `root` (set through the CSSOM: the page's content security
 * policy allows no inline style attribute).
 */
export function paintSwatches(root) {
  for (const el of root.querySelectorAll("[data-hue]")) el.style.background = `hsl(${el.dataset.hue} 65% 55%)`;
}

/** Every eventfd object: its counter, mode, the descriptors that hold it and the threads waiting on it. */
export function eventfdsHtml(world) {
  const efds = [...world.eventfds.values()].sort((a, b) => a.id - b.id);
  if (!efds.length) return `<p class="hint">No eventfd is open.</p>`;
  return efds
    .map((e) => {
      const holders = e.holders ?? [];
      const held = new Set(holders.map((h) => `${h.pid}:${h.fd}`));
      // A waiter: a thread whose call in the kernel is a read, write or poll on one of its descriptors.
      const waiting = [];
      for (const t of world.threads.values())
        for (const k of t.calls) {
          const fds = k.call === "poll" ? (k.args.fds ?? []) : k.call === "eventfd_read" || k.call === "eventfd_write" ? [k.args.fd] : [];
          if (fds.some((fd) => held.has(`${t.pid}:${fd}`))) waiting.push(`thread ${t.tid} in ${k.call}`);
        }
      const nonblock = e.flags !== undefined && (parseInt(e.flags, 8) & 0o4000) !== 0;
      return `<div class="efd" data-eventfd="${e.id}">
<div class="efd-head"><span class="efd-name">eventfd ${e.id}</span> <span class="counter" title="the counter">${esc(counterText(e.context.count))}</span>
<span class="muted">${e.context.semaphore ? "semaphore" : "counter"}${nonblock ? ", non-blocking" : ""} · ${esc(stateName(e.state))}</span></div>
<div class="efd-row">held by ${holders.length ? esc(holders.map((h) => `${h.pid} (fd ${h.fd})`).join(", ")) : "—"}</div>
<div class="efd-row">waiters: <span class="waiters">${waiting.length ? esc(waiting.join(", ")) : "none"}</span></div>
</div>`;
    })
    .join("");
}

/** Sessions and their process groups, with the colour each group has in the tree. */
export function legendHtml(world) {
  const sessions = new Map();
  for (const p of world.procs.values()) {
    const sid = p.context.sid ?? 0;
    const pgid = p.context.pgid ?? 0;
    if (!sessions.has(sid)) sessions.set(sid, new Map());
    const groups = sessions.get(sid);
    if (!groups.has(pgid)) groups.set(pgid, []);
    groups.get(pgid).push(p.pid);
  }
  if (!sessions.size) return "";
  const sorted = (m) => [...m].sort((a, b) => a[0] - b[0]);
  return `<h2>Sessions and process groups</h2><ul>${sorted(sessions)
    .map(
      ([sid, groups]) =>
        `<li><b>session ${sid}</b>${sid === 0 ? ' <span class="muted">(outside the namespace)</span>' : ""}: ${sorted(groups)
          .map(([pgid, pids]) => `<span class="group" data-pgid="${pgid}"><span class="swatch" data-hue="${groupHue(pgid)}"></span>group ${pgid} {${pids.sort((a, b) => a - b).join(", ")}}</span>`)
          .join(" ")}</li>`,
    )
    .join("")}</ul>`;
}
