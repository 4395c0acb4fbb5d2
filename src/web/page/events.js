// The event list: records as `blinkd events` prints them, filtered by pid and kind.
import { esc } from "./html.js";

const short = (v) => {
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.length > 40 ? s.slice(0, 39) + "…" : s;
};

/** A state as records write it: a nested state's JSON ({"open":"empty"}) as a path (open.empty). */
export function stateName(s) {
  if (typeof s !== "string" || !s.startsWith("{")) return s;
  try {
    let v = JSON.parse(s);
    const parts = [];
    while (v && typeof v === "object") {
      const [k] = Object.keys(v);
      parts.push(k);
      v = v[k];
    }
    return [...parts, v].join(".");
  } catch {
    return s;
  }
}

/** What a record says, in one line (the kind, actor and time are columns of their own). */
export function recordText(r) {
  switch (r.kind) {
    case "transition":
      return `${r.event}: ${stateName(r.from)} → ${stateName(r.to)}${changesText(r)}`;
    case "update":
      return `${r.event} (${stateName(r.to)})${changesText(r)}`;
    case "spawn":
      return `${stateName(r.to)}`;
    case "call":
      return `${r.event}(${Object.entries(r.args ?? {})
        .map(([k, v]) => `${k}=${short(v)}`)
        .join(", ")})`;
    case "reply":
      return `${r.event} = ${r.result}`;
  }
  return "";
}

function changesText(r) {
  if (!r.changes) return "";
  const parts = Object.entries(r.changes).map(([k, v]) => `${k}=${short(v)}`);
  return parts.length ? `  ${parts.join(" ")}` : "";
}

/** The short text a record shows on the tree. */
export function flashText(r) {
  if (r.kind === "transition") return `${r.event}: ${stateName(r.from)} → ${stateName(r.to)}`;
  if (r.kind === "update") return `${r.event}${r.changes ? " " + Object.keys(r.changes).join(",") : ""}`;
  if (r.kind === "spawn") return `spawn: ${stateName(r.to)}`;
  if (r.kind === "call") return `→ ${r.event}`;
  return `← ${r.event} = ${r.result}`;
}

export class Filter {
  constructor() {
    this.pid = undefined;
    this.kinds = new Set(["spawn", "transition", "update", "call", "reply"]);
  }

  accepts(r) {
    return (this.pid === undefined || r.pid === this.pid) && this.kinds.has(r.kind);
  }
}

/** The last `max` records the filter accepts, up to seq `upTo`; the one at `cursor` is marked. */
export function eventsHtml(records, filter, cursor, max = 400) {
  const rows = [];
  let shown = 0;
  let total = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (!filter.accepts(r)) continue;
    total++;
    if (shown >= max) continue;
    shown++;
    rows.push(
      `<div class="ev kind-${r.kind}${r.seq === cursor ? " cursor" : ""}${r.seq > cursor ? " future" : ""}" role="listitem" data-seq="${r.seq}" data-pid="${r.pid}" data-kind="${r.kind}">` +
        `<span class="seq">#${r.seq}</span><span class="t">${r.t}ms</span><span class="actor">${esc(r.actor)}</span><span class="kind">${r.kind}</span><span class="what">${esc(recordText(r))}</span></div>`,
    );
  }
  rows.reverse();
  return { html: rows.join(""), shown, total };
}
