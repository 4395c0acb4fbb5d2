/**
 * The C side of the schema: `blinkd_protocol.h` (call numbers, argument and result
 * structs, the protocol version hash) and `blinkd_calls.c` (each call's field layout and
 * one C function per call), generated from the same table as everything else, so the C
 * client cannot drift from the schema: `npm run build` regenerates both before compiling
 * (clients/c/build.mjs), and spec/native.client.test.ts compares what the compiled C
 * client reports against this table.
 *
 *   node dist/src/protocol/cheader.js OUTDIR
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PROTOCOL_VERSION, table, type CallEntry } from "./index.js";
import { EVENT, INTERRUPT, POST, REPLY, REQUEST, SEQ_MAX } from "./messages.js";
import { events } from "./events.js";
import { SIGACTION } from "./calls/signal.js";
import { DELIVERY } from "./calls/session.js";
import { PTRACE_MODE, PTRACE_OPTIONS, PTRACE_POINT } from "./calls/ptrace.js";
import { PROC_NODE } from "./calls/procfs.js";
import { STATE_PAGE } from "./statepage.js";
import * as signals from "./linux/signals.js";
import * as wait from "./linux/wait.js";
import * as fd from "./fdconst.js";
import { E } from "./errno.js";
import { CALL_STATES } from "./callstates.js";
import { DEFAULT_MAX_FRAME } from "./frame.js";
import { ERESTARTSYS } from "./errno.js";
import type { FieldType, Role } from "./schema.js";

/** The C type codes; the numbers are the C library's, not the wire's. */
export const CTYPE: Record<FieldType, number> = { i32: 1, u32: 2, i64: 3, u64: 4, bool: 5, str: 6, bytes: 7, strs: 8, i32s: 9, any: 10 };
export const CROLE: Record<Role, number> = { any: 0, unbound: 1, guest: 2, control: 3 };

/** Longest string an out field can hold in C (a token, the daemon's name); longer is -EMSGSIZE. */
export const STR_OUT_MAX = 256;

/** The protocol's own codes: numbers the wire gives a meaning Linux does not, as BLINKD_<GROUP>_<NAME>. */
const CODES: Record<string, Readonly<Record<string, number>>> = { SIGACTION, DELIVERY, PTRACE_POINT, PTRACE_MODE, PTRACE_OPTIONS, PROC_NODE, STATE_PAGE };

/**
 * Linux's values the protocol carries (signals, si_codes, SA_* bits, wait options, fcntl and
 * eventfd flags, errnos), as the schema declares them. A C program takes them from libc; the
 * generated blinkd_calls.c checks at compile time that libc agrees with the schema.
 */
const LINUX: [Readonly<Record<string, number>>, (k: string) => string][] = [
  [signals.SIG, signals.cNames.SIG],
  [signals.SI, signals.cNames.SI],
  [signals.SA, signals.cNames.SA],
  [signals.SIGMASK_HOW, signals.cNames.SIGMASK_HOW],
  [wait.WAIT, wait.cNames.WAIT],
  [wait.IDTYPE, wait.cNames.IDTYPE],
  [Object.fromEntries(Object.entries(fd).filter(([, v]) => typeof v === "number")) as Record<string, number>, (k) => k],
  [E, (k) => k],
];

const calls = (): CallEntry[] => [...table.byNr.values()].sort((a, b) => a.nr - b.nr);
const up = (s: string): string => s.toUpperCase();

/** Struct members for a field (arguments are borrowed; results are owned by the struct). */
function member(name: string, t: FieldType, dir: "in" | "out"): string[] {
  switch (t) {
    case "i32":
      return [`int32_t ${name};`];
    case "u32":
      return [`uint32_t ${name};`];
    case "i64":
      return [`int64_t ${name};`];
    case "u64":
      return [`uint64_t ${name};`];
    case "bool":
      return [`int ${name};`];
    case "str":
      return dir === "in" ? [`const char *${name};`] : [`char ${name}[BLINKD_STR_OUT_MAX];`];
    case "bytes":
    case "any":
      // any: the raw msgpack bytes of the value. Out: malloc'd, freed by the caller.
      return dir === "in" ? [`const void *${name};`, `size_t ${name}_len;`] : [`void *${name};`, `size_t ${name}_len;`];
    case "strs":
      // In: NULL-terminated. Out: a malloc'd NULL-terminated array whose strings live in the same block.
      return dir === "in" ? [`const char *const *${name};`] : [`char **${name};`];
    case "i32s":
      return dir === "in" ? [`const int32_t *${name};`, `size_t ${name}_len;`] : [`int32_t *${name};`, `size_t ${name}_len;`];
  }
}

/** C parameters of the per-call function for an argument. */
function params(name: string, t: FieldType): string[] {
  return member(name, t, "in").map((m) => m.replace(/;$/, ""));
}

/** The C library's own names (clients/c/blinkd.h); a call may not take one. */
const RESERVED = /^(conn_|buf_|put_|out_|call_)|^(socket_path|decode_reply)$/;

export function header(): string {
  for (const c of calls()) if (RESERVED.test(c.name)) throw new Error(`cheader: call ${c.name} would collide with the C library's blinkd_${c.name}`);
  const L: string[] = [];
  L.push(
    "/* blinkd_protocol.h: GENERATED from src/protocol/calls/FAMILY.ts by src/protocol/cheader.ts. Do not edit. */",
    "#ifndef BLINKD_PROTOCOL_H",
    "#define BLINKD_PROTOCOL_H",
    "#include <stddef.h>",
    "#include <stdint.h>",
    "",
    "/* The hash both sides exchange in hello (spec/protocol.md §7.1). */",
    `#define BLINKD_PROTOCOL_VERSION "${PROTOCOL_VERSION}"`,
    "",
    "/* Message kinds (§4) and daemon events (§4.4). */",
    `#define BLINKD_MSG_REQUEST ${REQUEST}`,
    `#define BLINKD_MSG_REPLY ${REPLY}`,
    `#define BLINKD_MSG_INTERRUPT ${INTERRUPT}`,
    `#define BLINKD_MSG_EVENT ${EVENT}`,
    `#define BLINKD_MSG_POST ${POST}`,
    ...Object.entries(events).flatMap(([k, e]) => [
      `#define BLINKD_EV_${k} ${e.nr} /* [3, ${e.nr}${Object.entries(e.fields).map(([n, t]) => `, ${n}: ${t}`).join("")}] */`,
      ...Object.keys(e.fields).map((n, i) => `#define BLINKD_EV_${k}_${up(n)} ${i + 2} /* its index in the event's array */`),
    ]),
    `#define BLINKD_SEQ_MAX ${SEQ_MAX}u`,
    `#define BLINKD_MAX_FRAME ${DEFAULT_MAX_FRAME}`,
    "/* The result of an interrupted call, negated: restart on SA_RESTART, else EINTR (§6). */",
    `#define BLINKD_ERESTARTSYS ${ERESTARTSYS}`,
    `#define BLINKD_STR_OUT_MAX ${STR_OUT_MAX}`,
    "",
    "/* The protocol's own codes (src/protocol/calls/FAMILY.ts). */",
    ...Object.entries(CODES).flatMap(([g, t]) => Object.entries(t).map(([k, v]) => `#define BLINKD_${g}_${k} ${v < 0 ? `(${v})` : v}`)),
    "",
    "/* The states of one call on a guest's side (spec/client.md; src/protocol/callstates.ts). */",
    "enum blinkd_call_state {",
    ...Object.entries(CALL_STATES).map(([k, d]) => `  BLINKD_CALL_${k.replace(/[A-Z]/g, (x) => "_" + x).toUpperCase()}, /* ${d} */`),
    "};",
    "",
    "/* Field types and roles as the call table below encodes them. */",
    "enum blinkd_type {",
    ...Object.entries(CTYPE).map(([k, v]) => `  BLINKD_T_${up(k)} = ${v},`),
    "};",
    "enum blinkd_role {",
    ...Object.entries(CROLE).map(([k, v]) => `  BLINKD_ROLE_${up(k)} = ${v},`),
    "};",
    "",
    "/* Call numbers. */",
    "enum blinkd_nr {",
    ...calls().map((c) => `  BLINKD_NR_${up(c.name)} = ${c.nr}, /* ${c.family}${c.blocks ? ", blocks" : ""} */`),
    "};",
    `#define BLINKD_NCALLS ${table.byNr.size}`,
    "",
    "/* One field of a call: its wire type and where it sits in the call's struct. */",
    "struct blinkd_field {",
    "  const char *name;",
    "  uint8_t type;",
    "  uint16_t offset;",
    "};",
    "/* One call: arguments and extra results in wire order. */",
    "struct blinkd_call {",
    "  uint16_t nr;",
    "  uint8_t blocks;",
    "  uint8_t role;",
    "  const char *name;",
    "  const char *family;",
    "  uint8_t nargs, nout;",
    "  const struct blinkd_field *args;",
    "  const struct blinkd_field *out;",
    "  uint16_t out_size;",
    "};",
    "/* Every call, by number. */",
    "extern const struct blinkd_call *const blinkd_call_table[BLINKD_NCALLS];",
    "const struct blinkd_call *blinkd_call_by_nr(int nr);",
    "const struct blinkd_call *blinkd_call_by_name(const char *name);",
    "",
    "struct blinkd_conn;",
    "",
  );
  for (const c of calls()) {
    const N = c.name;
    L.push(`/* ${N} (nr ${c.nr}, ${c.family}, role ${c.role}${c.blocks ? ", may block" : ""}): ${c.doc.replace(/\*\//g, "* /")} */`);
    L.push(`struct blinkd_${N}_args {`);
    if (c.argNames.length === 0) L.push("  char unused_;");
    for (const a of c.argNames) for (const m of member(a, c.args[a]!, "in")) L.push(`  ${m}`);
    L.push("};");
    if (c.outNames.length) {
      L.push(`struct blinkd_${N}_out {`);
      for (const a of c.outNames) for (const m of member(a, c.out[a]!, "out")) L.push(`  ${m}`);
      L.push("};");
    }
    L.push(`extern const struct blinkd_call blinkd_call_${N};`);
    L.push(`int64_t blinkd_${N}(${signature(c)});`);
    L.push("");
  }
  L.push("#endif");
  return L.join("\n") + "\n";
}

function signature(c: CallEntry): string {
  const p = ["struct blinkd_conn *c"];
  for (const a of c.argNames) p.push(...params(a, c.args[a]!));
  if (c.outNames.length) p.push(`struct blinkd_${c.name}_out *out`);
  return p.join(", ");
}

export function source(): string {
  const L: string[] = [
    "/* blinkd_calls.c: GENERATED from src/protocol/calls/FAMILY.ts by src/protocol/cheader.ts. Do not edit. */",
    "#define _GNU_SOURCE",
    "#include <errno.h>",
    "#include <fcntl.h>",
    "#include <poll.h>",
    "#include <signal.h>",
    "#include <string.h>",
    "#include <sys/eventfd.h>",
    "#include <sys/wait.h>",
    '#include "blinkd_protocol.h"',
    '#include "blinkd.h"',
    "",
    "/* Linux's values as the schema has them (src/protocol/linux/, fdconst.ts, errno.ts): libc must agree. */",
    ...LINUX.flatMap(([t, cname]) =>
      Object.entries(t).map(([k, v]) => `_Static_assert((uint32_t)(${cname(k)}) == ${v >>> 0}u, "${cname(k)} is ${v} in the schema");`),
    ),
    "",
  ];
  for (const c of calls()) {
    const N = c.name;
    const fl = (names: readonly string[], fields: Record<string, FieldType>, st: string): string =>
      names.map((a) => `  {"${a}", BLINKD_T_${up(fields[a]!)}, offsetof(struct ${st}, ${a})},`).join("\n");
    if (c.argNames.length) L.push(`static const struct blinkd_field args_${N}[] = {`, fl(c.argNames, c.args, `blinkd_${N}_args`), "};");
    if (c.outNames.length) L.push(`static const struct blinkd_field out_${N}[] = {`, fl(c.outNames, c.out, `blinkd_${N}_out`), "};");
    L.push(
      `const struct blinkd_call blinkd_call_${N} = {${c.nr}, ${c.blocks ? 1 : 0}, BLINKD_ROLE_${up(c.role)}, "${N}", "${c.family}", ${c.argNames.length}, ${c.outNames.length}, ${c.argNames.length ? `args_${N}` : "NULL"}, ${c.outNames.length ? `out_${N}` : "NULL"}, ${c.outNames.length ? `sizeof(struct blinkd_${N}_out)` : "0"}};`,
    );
    L.push(`int64_t blinkd_${N}(${signature(c)}) {`);
    L.push(`  struct blinkd_${N}_args a;`);
    L.push("  memset(&a, 0, sizeof a);");
    for (const a of c.argNames) for (const m of params(a, c.args[a]!)) {
      const v = m.split(/[ *]/).pop()!;
      L.push(`  a.${v} = ${v};`);
    }
    L.push(`  return blinkd_conn_call(c, &blinkd_call_${N}, &a, ${c.outNames.length ? "out" : "NULL"});`, "}", "");
  }
  L.push(
    "const struct blinkd_call *const blinkd_call_table[BLINKD_NCALLS] = {",
    ...calls().map((c) => `  &blinkd_call_${c.name},`),
    "};",
    "",
    "const struct blinkd_call *blinkd_call_by_nr(int nr) {",
    "  for (int i = 0; i < BLINKD_NCALLS; i++)",
    "    if (blinkd_call_table[i]->nr == nr) return blinkd_call_table[i];",
    "  return NULL;",
    "}",
    "",
    "const struct blinkd_call *blinkd_call_by_name(const char *name) {",
    "  for (int i = 0; i < BLINKD_NCALLS; i++)",
    "    if (strcmp(blinkd_call_table[i]->name, name) == 0) return blinkd_call_table[i];",
    "  return NULL;",
    "}",
  );
  return L.join("\n") + "\n";
}

/**
 * What the compiled C client prints for `blinkd-ctest table`: one line per call, so a test
 * can compare the C side's idea of the protocol with the schema.
 */
export function tableListing(): string {
  const lines = [`version ${PROTOCOL_VERSION}`];
  for (const c of calls()) {
    const f = (names: readonly string[], fields: Record<string, FieldType>): string => names.map((n) => `${n}:${CTYPE[fields[n]!]}`).join(",") || "-";
    lines.push(`${c.nr} ${c.name} ${c.family} blocks=${c.blocks ? 1 : 0} role=${CROLE[c.role]} args=${f(c.argNames, c.args)} out=${f(c.outNames, c.out)}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes both files, leaving a file untouched when its text is unchanged (so make-style rebuilds stay cheap). */
export function writeGenerated(dir: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  let changed = false;
  for (const [name, text] of [
    ["blinkd_protocol.h", header()],
    ["blinkd_calls.c", source()],
  ] as const) {
    const file = path.join(dir, name);
    const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (old !== text) {
      fs.writeFileSync(file, text);
      changed = true;
    }
  }
  return changed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) {
    process.stdout.write(header());
  } else {
    writeGenerated(dir);
  }
}
