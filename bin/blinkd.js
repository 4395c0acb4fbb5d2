#!/usr/bin/env -S BLINKD_CALLER_MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_} MALLOC_TRIM_THRESHOLD_=4194304 node --max-semi-space-size=2
// MALLOC_TRIM_THRESHOLD_: glibc's malloc keeps up to 4 MiB free instead of trimming at each
// free past 128 KiB and faulting it in again: the daemon's page faults per loop iteration
// 25 → 13.6 (src/cli/callerenv.ts, which gives guests the caller's value back).
// --max-semi-space-size=2: V8's young generation stays at 2 MB semi-spaces instead of growing
// to 16 MB: the daemon's RSS at 10,001 processes and 1,000 connections 229 → 174 MB, and
// ~11 fewer page faults per fork iteration of a `blinkd run` loop, its CPU within the noise
// (bench/README.md, issue 18's third round). A flag only takes effect at start (a
// v8.setFlagsFromString of it later does nothing; re-executing Node.js costs a process start):
// the benches and the spec helpers run `node FLAGS bin/blinkd.js` with this line's flags
// (src/cli/nodeflags.ts); a user who starts `node bin/blinkd.js` gives them, or NODE_OPTIONS.
// The command, from its bundle (npm run build): one file instead of a hundred modules to
// resolve, which was most of a command's start-up (bench/README.md, start-up), compiled from
// V8's code cache made at build (src/cli/codecache.ts).
import { runBundle } from "../dist/src/cli/codecache.js";
runBundle();
