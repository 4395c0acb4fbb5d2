/** Which socket a client uses: $BLINKD_SOCKET (set by `blinkd run`), else the fixed name at the prefix root. */
import * as path from "node:path";
import { SOCKET_NAME, defaultPrefix } from "../server/paths.js";

export function guestSocket(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BLINKD_SOCKET) return env.BLINKD_SOCKET;
  return path.join(defaultPrefix(env).prefix, SOCKET_NAME);
}
