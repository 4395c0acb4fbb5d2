/**
 * A blocking wait's SIGCHLD in its reply (wait4_sigchld, waitid_sigchld; src/actors/chldreply.ts)
 * for a native program through the preload: spec/helpers/chldreply.ts.
 */
import { chldReplySuites } from "./helpers/chldreply.js";

chldReplySuites("blinkd");
