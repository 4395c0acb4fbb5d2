/**
 * The state page (spec/protocol.md §10.1): a file beside the daemon's socket that the daemon
 * writes (pwrite) and the guests map read-only (MAP_SHARED), so that a guest answers a few
 * questions whose answer rarely changes without a round trip. One fixed-size slot per
 * emulated pid at offset pid × SLOT; slot 0 is the header. Every field is a little-endian
 * u32 at the offset named here; the C header has them as BLINKD_STATE_PAGE_<NAME>.
 */
export const STATE_PAGE = {
  /** Bytes per slot. */
  SLOT: 32,
  /** Header (slot 0): MAGIC at offset 0, the daemon's host pid at DAEMON, SLOT at SLOT_SIZE, pid_max at PID_MAX. */
  MAGIC: 0x31656762, // "bge1"
  DAEMON: 4,
  SLOT_SIZE: 8,
  PID_MAX: 12,
  /** A process's slot: the SIGCHLD bell counter, bumped as a SIGCHLD is queued for the process, so before the kill(2) that rings for it. */
  BELL: 0,
  /** BELL as it was at the last sig_dequeue after which the process (none of its threads) held no SIGCHLD: BELL = SEEN says it holds none now. */
  SEEN: 4,
  /** Children a wait of this process may see: live, zombies and tracees (wait_consider_task's candidates). */
  CHILDREN: 8,
  /** Of them, those with something a wait may report: zombies, unreported stops and continues, ptrace reports. */
  WAITABLE: 12,
  /** Of them, clone children (an exit signal other than SIGCHLD: only __WCLONE or __WALL sees them). */
  CLONES: 16,
} as const;

/** The page's file name beside a socket `NAME.sock` (or any other name): `NAME.state`. */
export function statePagePath(socket: string): string {
  return socket.replace(/\.sock$/, "") + ".state";
}
