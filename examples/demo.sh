#!/usr/bin/env bash
# The main job: a process tree under an emulated PID 1, shown with `blinkd ps` while it runs.
set -eu
cd "$(dirname "$0")/.."
export BLINK_PREFIX=${BLINK_PREFIX:-$(mktemp -d)}
node bin/blinkd.js run -- node dist/examples/init-tree.js &
run=$!
sleep 1.5
echo "--- blinkd ps (init, middle, leaf) ---"
node bin/blinkd.js ps
sleep 1.5
echo "--- blinkd ps (middle reaped, leaf orphaned to init) ---"
node bin/blinkd.js ps
wait $run
echo "--- blinkd run exited with $? ---"
