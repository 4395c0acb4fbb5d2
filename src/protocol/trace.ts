/** The trace printer: one readable line per call and per reply (BLINKD_TRACE=1). */
import type { CallEntry } from "./index.js";
import { errnoName } from "./errno.js";

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 64 ? v.slice(0, 61) + "..." : v);
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return v.length > 8 ? `[${v.slice(0, 8).map(show).join(", ")}, …${v.length - 8} more]` : `[${v.map(show).join(", ")}]`;
  if (typeof v === "object" && v !== null) return "{…}";
  return String(v);
}

/** A one-time token is a capability, and fork's proof secret proves a host pid: the trace shows only their last 4 digits. */
function showField(name: string, v: unknown): string {
  return (name === "token" || name === "proof") && typeof v === "string" ? `"…${v.slice(-4)}"` : show(v);
}

export function traceCall(who: string, seq: number, call: CallEntry, args: Record<string, unknown>): string {
  const a = call.argNames.map((n) => `${n}=${showField(n, args[n])}`).join(", ");
  return `${who} #${seq} ${call.name}(${a})`;
}

export function traceReply(who: string, seq: number, call: CallEntry | undefined, result: number | bigint, out: readonly unknown[]): string {
  const name = call?.name ?? "?";
  if (result < 0) {
    const detail = typeof out[0] === "string" ? ` (${out[0]})` : "";
    return `${who} #${seq} ${name} = -1 ${errnoName(-Number(result))}${detail}`;
  }
  const names = call?.outNames ?? [];
  const o = names.length ? ` {${names.map((n, i) => `${n}: ${showField(n, out[i])}`).join(", ")}}` : "";
  return `${who} #${seq} ${name} = ${result}${o}`;
}

export function traceInterrupt(who: string, seq: number, state: string): string {
  return `${who} #${seq} interrupt (${state})`;
}
