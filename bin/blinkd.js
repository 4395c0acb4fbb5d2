#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: V8's young generation stays at 2 MB semi-spaces instead of growing
// to 16 MB: the daemon's RSS at 10,001 processes and 1,000 connections 229 → 174 MB, and
// ~11 fewer page faults per fork iteration of a `blinkd run` loop, its CPU within the noise
// (bench/README.md, issue 18's third round). A flag only takes effect at start: the benches
// run the daemon with this line's flags (bench/lib/procs.ts, blinkdArgv).
// The command, from its bundle (npm run build): one file per command instead of a hundred
// modules to resolve, which is most of a command's start-up (bench/README.md, start-up).
import "../dist/src/blinkd/main.js";
