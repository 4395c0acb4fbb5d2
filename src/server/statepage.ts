/**
 * The state page's writer (src/protocol/statepage.ts has the layout, spec/protocol.md §10.1 the
 * rules): a sparse file of (pid_max + 1) slots, written with pwrite (fs.writeSync with a
 * position), which the guests' MAP_SHARED mappings of the same file see at once. Each slot is
 * written whole, and only when it changed: a change marks its slot in the mirror (every slot
 * is kept here), and `flush` writes each marked slot once, so the bell and the counts an exit
 * changes in one step cost one pwrite, not one each. The writer's caller flushes before anything
 * that can tell a guest of a change (server/core.ts, spec/protocol.md §10.1).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { STATE_PAGE, statePagePath } from "../protocol/statepage.js";

const WORDS = STATE_PAGE.SLOT / 4;

export class StatePage {
  private readonly mirror: Uint32Array;
  private readonly out = Buffer.alloc(STATE_PAGE.SLOT);
  private readonly files: { file: string; ino: number }[] = [];
  /** Told of each slot written (the daemon's trace). */
  onWrite: ((pid: number) => void) | undefined;
  /** Slots changed in the mirror since the last flush. */
  private readonly dirty = new Set<number>();
  private fd: number;

  private constructor(fd: number, readonly pidMax: number) {
    this.fd = fd;
    this.mirror = new Uint32Array((pidMax + 1) * WORDS);
  }

  /**
   * Creates the page beside `sockets[0]` and links it beside the others (each renamed into
   * place, so a guest opens either the old daemon's page or this one's whole; the header
   * names the daemon's host pid, which the guest checks against its connection's peer).
   */
  static create(sockets: readonly string[], pidMax: number, mode: number): StatePage {
    const first = statePagePath(sockets[0]!);
    const tmp = path.join(path.dirname(first), `.${path.basename(first)}.${process.pid}`);
    const fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, mode);
    const page = new StatePage(fd, pidMax);
    try {
      fs.fchmodSync(fd, mode);
      fs.ftruncateSync(fd, (pidMax + 1) * STATE_PAGE.SLOT);
      const h = Buffer.alloc(STATE_PAGE.SLOT);
      h.writeUInt32LE(STATE_PAGE.MAGIC, 0);
      h.writeUInt32LE(process.pid, STATE_PAGE.DAEMON);
      h.writeUInt32LE(STATE_PAGE.SLOT, STATE_PAGE.SLOT_SIZE);
      h.writeUInt32LE(pidMax, STATE_PAGE.PID_MAX);
      fs.writeSync(fd, h, 0, h.length, 0);
      fs.renameSync(tmp, first);
      page.files.push({ file: first, ino: fs.fstatSync(fd).ino });
      for (const s of sockets.slice(1)) {
        const f = statePagePath(s);
        const t = path.join(path.dirname(f), `.${path.basename(f)}.${process.pid}`);
        try {
          fs.rmSync(t, { force: true });
          fs.linkSync(first, t);
          fs.renameSync(t, f);
          page.files.push({ file: f, ino: page.files[0]!.ino });
        } catch {
          /* a guest of that socket falls back to its round trips */
        }
      }
    } catch (e) {
      page.close();
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return page;
  }

  /** Whether a slot changed since the last flush. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Writes every slot changed since the last flush, each once, whole, from the mirror. */
  flush(): void {
    if (this.dirty.size === 0) return;
    if (this.fd >= 0) {
      for (const pid of this.dirty) {
        const o = pid * WORDS;
        for (let i = 0; i < WORDS; i++) this.out.writeUInt32LE(this.mirror[o + i]!, i * 4);
        fs.writeSync(this.fd, this.out, 0, STATE_PAGE.SLOT, pid * STATE_PAGE.SLOT);
        this.onWrite?.(pid);
      }
    }
    this.dirty.clear();
  }

  /** The SIGCHLD bell: bumped as a SIGCHLD is queued for pid; written before its ring (spec/signals.md §4.2). */
  bell(pid: number): void {
    if (pid <= 0 || pid > this.pidMax) return;
    const o = pid * WORDS + STATE_PAGE.BELL / 4;
    this.mirror[o] = (this.mirror[o]! + 1) >>> 0;
    this.dirty.add(pid);
  }

  /** pid holds no SIGCHLD now (a sig_dequeue left none, or it is new): SEEN = BELL; written only when it changed. */
  quiet(pid: number): void {
    if (pid <= 0 || pid > this.pidMax) return;
    const o = pid * WORDS;
    const bell = this.mirror[o + STATE_PAGE.BELL / 4]!;
    if (this.mirror[o + STATE_PAGE.SEEN / 4] === bell) return;
    this.mirror[o + STATE_PAGE.SEEN / 4] = bell;
    this.dirty.add(pid);
  }

  /** The counts a wait of pid may see (CHILDREN, WAITABLE, CLONES); written only when they changed. */
  counts(pid: number, children: number, waitable: number, clones: number): void {
    if (pid <= 0 || pid > this.pidMax) return;
    const o = pid * WORDS;
    const m = this.mirror;
    if (m[o + STATE_PAGE.CHILDREN / 4] === children && m[o + STATE_PAGE.WAITABLE / 4] === waitable && m[o + STATE_PAGE.CLONES / 4] === clones) return;
    m[o + STATE_PAGE.CHILDREN / 4] = children;
    m[o + STATE_PAGE.WAITABLE / 4] = waitable;
    m[o + STATE_PAGE.CLONES / 4] = clones;
    this.dirty.add(pid);
  }

  /** Closes the page and removes its files that are still this daemon's. */
  close(): void {
    this.dirty.clear();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    for (const { file, ino } of this.files.splice(0)) {
      try {
        if (fs.statSync(file).ino === ino) fs.unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  }
}
