/**
 * `blinkd pstree [-t] [PID]`: the process tree as psmisc's `pstree -p` draws it: children
 * sorted by name (strcmp; ties keep pid order), threads as {name}(tid) where the name is
 * the process's unless -t asks for the thread's own, line-drawing characters when the
 * locale is UTF-8 and ASCII otherwise.
 */
import type { ProcRecord } from "../protocol/records.js";
import { connectControl, controlOptions, parse, pidOperand } from "./args.js";

const USAGE = "usage: blinkd pstree [--prefix DIR] [--socket PATH] [--timeout-ms MS] [--json] [-t|--thread-names] [-A|--ascii] [-U|--unicode] [PID]";

interface Sym {
  empty: string;
  branch: string;
  vert: string;
  last: string;
  single: string;
  first: string;
}
const ASCII: Sym = { empty: "  ", branch: "|-", vert: "| ", last: "`-", single: "---", first: "-+-" };
const UTF8: Sym = { empty: "  ", branch: "├─", vert: "│ ", last: "└─", single: "───", first: "─┬─" };

/** psmisc decides by the locale's codeset (nl_langinfo(CODESET) == "UTF-8"). */
export function localeIsUtf8(env: NodeJS.ProcessEnv = process.env): boolean {
  const l = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(l);
}

export interface TreeNode {
  pid: number;
  name: string;
  thread: boolean;
  children: TreeNode[];
}

/** strcmp on the bytes of the names, as psmisc's add_child sorts. */
const byName = (a: TreeNode, b: TreeNode): number => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

export function buildTree(procs: ProcRecord[], threadNames: Map<number, string> = new Map()): Map<number, TreeNode> {
  const nodes = new Map<number, TreeNode>();
  for (const p of procs) nodes.set(p.pid, { pid: p.pid, name: p.comm, thread: false, children: [] });
  for (const p of procs) {
    const n = nodes.get(p.pid)!;
    // psmisc adds a process's threads before the process itself, then sorts stably by name.
    for (const tid of p.threads) if (tid !== p.pid) n.children.push({ pid: tid, name: `{${threadNames.get(tid) ?? p.comm}}`, thread: true, children: [] });
    nodes.get(p.ppid)?.children.push(n);
  }
  for (const n of nodes.values()) n.children.sort(byName);
  return nodes;
}

/** psmisc's dump_tree for -p (no compaction): the label, then the first child on the same line. */
export function drawTree(root: TreeNode, sym: Sym): string {
  let out = "";
  const width: number[] = [];
  const more: boolean[] = [];
  const len = (s: string): number => [...s].length;
  const dump = (n: TreeNode, level: number, leaf: boolean, last: boolean): void => {
    if (!leaf)
      for (let lvl = 0; lvl < level; lvl++) {
        out += " ".repeat(width[lvl]! + 1);
        out += lvl === level - 1 ? (last ? sym.last : sym.branch) : more[lvl + 1] ? sym.vert : sym.empty;
      }
    const label = `${n.name}(${n.pid})`;
    out += label;
    width[level] = len(label);
    if (!n.children.length) {
      out += "\n";
      return;
    }
    more[level] = !last;
    n.children.forEach((c, i) => {
      const next = i < n.children.length - 1;
      if (i === 0) out += next ? sym.first : sym.single;
      dump(c, level + 1, i === 0, !next);
    });
  };
  dump(root, 0, true, true);
  return out;
}

export async function pstreeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...controlOptions, json: { type: "boolean" }, "thread-names": { type: "boolean", short: "t" }, ascii: { type: "boolean", short: "A" }, unicode: { type: "boolean", short: "U" } },
    USAGE,
    { max: 1 },
  );
  const rootPid = positionals[0] === undefined ? 1 : pidOperand(positionals[0], USAGE);
  const ctl = await connectControl(values);
  try {
    const procs = await ctl.ps();
    const names = new Map<number, string>();
    // Thread names differ from the process's only after prctl(PR_SET_NAME): ask inspect for them.
    if (values["thread-names"] && procs.some((p) => p.threads.length > 1))
      for (const a of await ctl.inspect(0)) if (a.kind === "thread" && (a.context as { comm?: string | null }).comm) names.set(Number(a.id.slice(7)), (a.context as { comm: string }).comm);
    const nodes = buildTree(procs, names);
    const root = nodes.get(rootPid);
    if (!root) {
      process.stderr.write(`blinkd pstree: no process ${rootPid} in this namespace\n`);
      return 1;
    }
    process.stdout.write(values.json ? JSON.stringify(root, null, 2) + "\n" : drawTree(root, values.ascii ? ASCII : values.unicode || localeIsUtf8() ? UTF8 : ASCII));
    return 0;
  } finally {
    ctl.close();
  }
}
