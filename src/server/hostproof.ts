/**
 * Which host process a guest is. A guest names its host pid in register and claim; the
 * daemon signals that process (default actions, doorbells, the namespace's end) and reads
 * its /proc (uids, environ, cwd), so the word must be checked: Node.js cannot read a UNIX
 * socket's peer credentials (SO_PEERCRED), so the host process proves it instead. The hello
 * reply carries a nonce for that connection alone; before register or claim the guest opens
 * a descriptor whose name holds `blinkd-proof-NONCE` (the C client a memfd_create, the
 * TypeScript client an unlinked temporary file), and the daemon finds it among the
 * descriptors of the named process (/proc/PID/fd). Only a process that holds this
 * connection's nonce and chose to hold such a descriptor passes: another process, of this
 * user or another, cannot be named. A guest that does not prove its host pid is bound with
 * no host process: the daemon never signals or reads one for it (issue 15).
 */
import * as fs from "node:fs";

export const PROOF_PREFIX = "blinkd-proof-";

/** Descriptors the daemon looks through before it gives up (a proof is made just before the call: it is among the newest). */
const MAX_SCAN = 4096;

const SECRET = /^[0-9a-f]{32}$/;

/**
 * Does descriptor `fd` of host process `hostpid` have a name holding one of these secrets (the
 * connection's nonce, or the claimed reservation's proof)? One readlink instead of a readdir
 * and a readlink per descriptor: the guest names the descriptor. The proof's property is the
 * scan's: only a process that holds a secret of this connection or this reservation, and chose
 * to hold such a descriptor, passes; the number only says where to look.
 */
export function provesHostAt(hostpid: number, fd: number, secrets: readonly string[]): boolean {
  if (hostpid <= 1 || hostpid === process.pid || fd < 0) return false;
  const wants = secrets.filter((s) => SECRET.test(s)).map((s) => PROOF_PREFIX + s);
  let name: string;
  try {
    name = fs.readlinkSync(`/proc/${hostpid}/fd/${fd}`);
  } catch {
    return false; // no such descriptor or process, or not this daemon's to read
  }
  return wants.some((w) => name.includes(w));
}

/** Does host process `hostpid` hold a descriptor named with this connection's nonce? */
export function provesHost(hostpid: number, nonce: string): boolean {
  if (hostpid <= 1 || hostpid === process.pid || !SECRET.test(nonce)) return false;
  const dir = `/proc/${hostpid}/fd`;
  let fds: string[];
  try {
    fds = fs.readdirSync(dir);
  } catch {
    return false; // gone, or not this daemon's to read (another user's, when the daemon is not root)
  }
  const want = PROOF_PREFIX + nonce;
  // The newest descriptor is most often the highest-numbered one.
  fds.sort((a, b) => Number(b) - Number(a));
  for (const fd of fds.slice(0, MAX_SCAN)) {
    try {
      if (fs.readlinkSync(`${dir}/${fd}`).includes(want)) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}
