// The process tree as SVG: parents to the left, children to the right, laid out by
// d3-hierarchy's tidy tree (Reingold–Tilford, as d3.tree: compact, and siblings never
// overlap even when their boxes differ in height). Each process is a box with its threads
// in it; boxes and edges are kept per pid, so a reparented or changed process moves or
// changes in place (CSS transitions), and the actor an event touched flashes with the event.
import { esc } from "./html.js";
import { hierarchy, tree } from "./vendor/d3-hierarchy.mjs";
import { maskText, statusText } from "./signals.js";

const W = 230;
const COL = 275;
const HEAD = 44;
const ROW = 18;
const SIGROW = 15;
/** Room above the top box for its event label, and at the sides. */
const PAD = 48;
const PADX = 20;


/** A process's state as the tree shows it: the lifecycle, with job control's stop (ps's T) over running. */
export function shownState(p) {
  if ((p.state === "running" || p.state === "native") && p.context.stopped) return "stopped";
  return p.state;
}

/** A colour per process group, the same for a pgid wherever it appears. */
export function groupHue(pgid) {
  return Math.round((pgid * 137.508) % 360);
}

/** A parked or in-flight call as one short line: name(arg, …). */
export function callText(c, max = 19) {
  const args = Object.entries(c.args ?? {})
    .map(([, v]) => (typeof v === "object" ? JSON.stringify(v) : String(v)))
    .join(", ");
  const s = `${c.call}(${args})`;
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Each process's threads, by tid (one pass over the threads, not one per process). */
const threadIndex = new WeakMap();
function threadsOf(world, pid) {
  let index = threadIndex.get(world);
  if (!index) {
    index = new Map();
    for (const t of [...world.threads.values()].sort((a, b) => a.tid - b.tid)) {
      if (!index.has(t.pid)) index.set(t.pid, []);
      index.get(t.pid).push(t);
    }
    threadIndex.set(world, index);
  }
  return index.get(pid) ?? [];
}

/** The rows of one process box, and its height. */
function boxOf(world, p) {
  const rows = [];
  for (const t of threadsOf(world, p.pid)) {
    rows.push({ kind: "thread", t });
    const blk = maskText(t.context.blocked);
    const pnd = maskText(t.context.pending?.mask);
    if (blk || pnd) rows.push({ kind: "tsig", t, text: [pnd && `pending ${pnd}`, blk && `blocked ${blk}`].filter(Boolean).join(" · ") });
  }
  const ppnd = maskText(p.context.pending?.mask);
  if (ppnd) rows.push({ kind: "psig", text: `process pending ${ppnd}` });
  const h = HEAD + rows.reduce((n, r) => n + (r.kind === "thread" ? ROW : SIGROW), 0) + 8;
  return { rows, h };
}

function boxSvg(world, p, box, selected) {
  const c = p.context;
  const st = shownState(p);
  const hue = groupHue(c.pgid ?? 0);
  const lead = [c.sid === p.pid ? "session leader" : "", c.pgid === p.pid ? "group leader" : ""].filter(Boolean).join(", ");
  const sub = `pg ${c.pgid ?? "?"} · sid ${c.sid ?? "?"}${st === "zombie" && c.wstatus !== null && c.wstatus !== undefined ? ` · ${statusText(c.wstatus)}` : ""}`;
  let y = HEAD;
  const rows = box.rows
    .map((r) => {
      if (r.kind === "thread") {
        const t = r.t;
        const sel = selected === `thread:${t.tid}` ? " selected" : "";
        const calls = t.calls.length ? t.calls.map((k) => callText(k)).join(" ") : "";
        const line = `<g class="thread${t.calls.length ? " parked" : ""}${sel}" data-actor="thread:${t.tid}" transform="translate(0,${y})">
<rect class="row-bg" x="6" y="1" width="${W - 12}" height="${ROW - 2}" rx="3"></rect>
<text x="14" y="13" class="tid">⤷ ${t.tid}</text><text x="52" y="13" class="tstate">${esc(t.state)}</text>
<text x="100" y="13" class="call">${esc(calls)}</text><title>thread ${t.tid}: ${esc(t.state)}${calls ? `, in ${esc(calls)}` : ""}</title></g>`;
        y += ROW;
        return line;
      }
      const line = `<text x="${r.kind === "tsig" ? 30 : 14}" y="${y + 11}" class="sig">${esc(r.text)}</text>`;
      y += SIGROW;
      return line;
    })
    .join("");
  return `<rect class="box" width="${W}" height="${box.h}" rx="7"></rect>
<rect class="stripe" width="6" height="${box.h}" rx="3" fill="hsl(${hue} 65% 55%)"></rect>
<text x="16" y="19" class="title">${esc(c.comm || "?")} <tspan class="pid">${p.pid}</tspan></text>
<text x="${W - 10}" y="19" class="badge" text-anchor="end">${esc(st)}</text>
<text x="16" y="36" class="subtitle">${esc(sub)}${lead ? ` <tspan class="lead">★</tspan>` : ""}</text>
<title>${esc(`${c.comm} (pid ${p.pid}): ${st}\n${(c.argv ?? []).join(" ")}\nparent ${c.ppid}, process group ${c.pgid}, session ${c.sid}${lead ? `\n${lead}` : ""}`)}</title>
${rows}`;
}

const NS = "http://www.w3.org/2000/svg";

export class TreeView {
  constructor(container, onSelect) {
    this.container = container;
    this.svg = document.createElementNS(NS, "svg");
    this.svg.setAttribute("class", "tree-svg");
    this.edgeLayer = document.createElementNS(NS, "g");
    this.nodeLayer = document.createElementNS(NS, "g");
    this.flashLayer = document.createElementNS(NS, "g");
    this.svg.append(this.edgeLayer, this.nodeLayer, this.flashLayer);
    container.append(this.svg);
    this.nodes = new Map();
    this.edges = new Map();
    this.pos = new Map();
    this.svg.addEventListener("click", (e) => {
      // A click on a box or thread selects it; on the background, clears the selection.
      const el = e.target.closest("[data-actor]");
      onSelect(el ? el.getAttribute("data-actor") : undefined);
    });
  }

  /**
   * Draws `world`. `flash`: the records to show on the tree now ({ actor, text } each);
   * `animate`: move boxes smoothly (live), or jump (stepping through time).
   */
  render(world, { selected, flash = [], animate = true }) {
    this.svg.classList.toggle("animate", animate);
    const procs = [...world.procs.values()].sort((a, b) => a.pid - b.pid);
    const byPid = new Map(procs.map((p) => [p.pid, { p, box: boxOf(world, p), children: [] }]));
    const roots = [];
    for (const n of byPid.values()) {
      const parent = byPid.get(n.p.context.ppid);
      if (parent && parent !== n) parent.children.push(n);
      else roots.push(n);
    }
    const root = hierarchy({ p: null, box: { h: 0 }, children: roots }, (d) => d.children);
    tree()
      .nodeSize([1, COL])
      .separation((a, b) => (a.data.box.h + b.data.box.h) / 2 + (a.parent === b.parent ? 26 : 40))(root);
    const laid = root.descendants().filter((d) => d.data.p);
    let minTop = Infinity;
    let maxBottom = -Infinity;
    let maxRight = 0;
    for (const d of laid) {
      minTop = Math.min(minTop, d.x - d.data.box.h / 2);
      maxBottom = Math.max(maxBottom, d.x + d.data.box.h / 2);
      maxRight = Math.max(maxRight, (d.depth - 1) * COL + W);
    }
    const seen = new Set();
    const pos = new Map();
    for (const d of laid) {
      const { p, box } = d.data;
      const x = PADX + (d.depth - 1) * COL;
      const y = PAD + d.x - box.h / 2 - minTop;
      pos.set(p.pid, { x, y, h: box.h });
      seen.add(p.pid);
      let g = this.nodes.get(p.pid);
      if (!g) {
        g = document.createElementNS(NS, "g");
        g.classList.add("node", "new");
        g.setAttribute("data-pid", String(p.pid));
        g.setAttribute("data-actor", `proc:${p.pid}`);
        g.style.transform = `translate(${x}px, ${y}px)`;
        this.nodeLayer.append(g);
        this.nodes.set(p.pid, g);
        setTimeout(() => g.classList.remove("new"), 600);
      }
      const st = shownState(p);
      g.setAttribute("class", `node state-${st}${selected === `proc:${p.pid}` ? " selected" : ""}${g.classList.contains("new") ? " new" : ""}`);
      g.setAttribute("data-state", st);
      g.setAttribute("data-ppid", String(p.context.ppid));
      g.setAttribute("data-pgid", String(p.context.pgid));
      g.setAttribute("data-sid", String(p.context.sid));
      g.setAttribute("data-threads", threadsOf(world, p.pid).map((t) => t.tid).join(" "));
      const html = boxSvg(world, p, box, selected);
      if (g.__html !== html) {
        g.innerHTML = html;
        g.__html = html;
      }
      g.style.transform = `translate(${x}px, ${y}px)`;
    }
    for (const [pid, g] of this.nodes)
      if (!seen.has(pid)) {
        g.remove();
        this.nodes.delete(pid);
      }
    // Edges: from the parent's right side to the child's left, one per child.
    const seenEdges = new Set();
    for (const d of laid) {
      if (!d.parent || !d.parent.data.p) continue;
      const a = pos.get(d.parent.data.p.pid);
      const b = pos.get(d.data.p.pid);
      const x1 = a.x + W;
      const y1 = a.y + 22;
      const x2 = b.x;
      const y2 = b.y + 22;
      const mx = (x1 + x2) / 2;
      const dpath = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      let e = this.edges.get(d.data.p.pid);
      if (!e) {
        e = document.createElementNS(NS, "path");
        e.setAttribute("class", "edge");
        e.setAttribute("data-child", String(d.data.p.pid));
        this.edgeLayer.append(e);
        this.edges.set(d.data.p.pid, e);
      }
      e.setAttribute("data-parent", String(d.parent.data.p.pid));
      e.style.d = `path("${dpath}")`;
      seenEdges.add(d.data.p.pid);
    }
    for (const [pid, e] of this.edges)
      if (!seenEdges.has(pid)) {
        e.remove();
        this.edges.delete(pid);
      }
    const width = laid.length ? maxRight + 2 * PADX : 400;
    const height = laid.length ? maxBottom - minTop + 2 * PAD : 120;
    this.svg.setAttribute("width", String(width));
    this.svg.setAttribute("height", String(height));
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.pos = pos;
    this.drawFlashes(flash);
    if (!laid.length) {
      this.flashLayer.innerHTML = `<text x="${PAD}" y="${PAD + 20}" class="empty">no process in the namespace at this event</text>`;
    }
  }

  /**
   * Each record shown on the tree: its actor's box (or thread row) glows, and the most telling
   * of a box's records (a transition or spawn before an update before a call; the newest
   * first) is written above it. Eventfd and namespace records glow elsewhere (app.js).
   */
  drawFlashes(flash) {
    for (const el of this.svg.querySelectorAll(".flash")) el.classList.remove("flash");
    const rank = (f) => (f.kind === "transition" || f.kind === "spawn" ? 0 : f.kind === "update" ? 1 : 2);
    const best = new Map();
    flash.forEach((f, i) => {
      const [kind, n] = f.actor.split(":");
      if (kind !== "proc" && kind !== "thread") return;
      const pid = kind === "thread" ? f.pid : Number(n);
      const g = this.nodes.get(pid);
      if (!g) return;
      const target = kind === "thread" ? g.querySelector(`[data-actor="thread:${n}"]`) ?? g : g;
      target.classList.add("flash");
      const b = best.get(pid);
      if (!b || rank(f) < rank(b.f) || (rank(f) === rank(b.f) && i > b.i)) best.set(pid, { f, i });
    });
    const labels = [];
    for (const [pid, { f }] of best) {
      const at = this.pos.get(pid);
      if (at) labels.push(`<text class="flash-text" x="${at.x + 10}" y="${at.y - 5}">${esc(f.text)}</text>`);
    }
    this.flashLayer.innerHTML = labels.join("");
  }
}
