#!/usr/bin/env node
// The command, from its bundle (npm run build): one file per command instead of a hundred
// modules to resolve, which is most of a command's start-up (bench/README.md, start-up).
import "../dist/src/blinkd/main.js";
