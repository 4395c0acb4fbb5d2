/**
 * Linux's wait status word and wait4/waitid's options and idtypes, for the daemon's rules:
 * declared once in the protocol (src/protocol/linux/wait.ts, from which the C header's checks
 * are generated) and named here as the daemon's modules use them.
 */
import { IDTYPE, WAIT } from "../protocol/linux/wait.js";

export {
  exited,
  signaled,
  stopped,
  CONTINUED,
  ifExited,
  exitStatus,
  ifSignaled,
  termSig,
  coreDumped,
  ifStopped,
  stopSig,
  shellCode,
  describeStatus,
} from "../protocol/linux/wait.js";

// include/uapi/linux/wait.h: the options of wait4 and waitid.
export const { WNOHANG, WUNTRACED, WSTOPPED, WEXITED, WCONTINUED, WNOWAIT, __WNOTHREAD, __WALL, __WCLONE } = WAIT;

// include/uapi/linux/wait.h: waitid's idtype.
export const { P_ALL, P_PID, P_PGID, P_PIDFD } = IDTYPE;
