#!/usr/bin/env bash
# The main job: a process tree under an emulated PID 1, shown with the inspection commands
# (`blinkd ps`, `pstree`, `inspect`, `events`) while it runs.
set -eu
cd "$(dirname "$0")/.."
export BLINK_PREFIX=${BLINK_PREFIX:-$(mktemp -d)}
export HOLD_MS=${HOLD_MS:-8000}
blinkd() { node bin/blinkd.js "$@"; }
blinkd run -- node dist/examples/init-tree.js &
run=$!
# Each stage waits for the state it shows (no fixed delays): first the whole tree.
until blinkd ps 2>/dev/null | grep -q " leaf "; do sleep 0.2; done
echo "--- blinkd ps (init, middle, leaf) ---"
blinkd ps
echo "--- blinkd pstree ---"
blinkd pstree
echo "--- blinkd inspect 1 (init, parked in wait4) ---"
blinkd inspect 1
while blinkd ps 2>/dev/null | grep -q " middle "; do sleep 0.2; done
echo "--- blinkd ps (middle reaped, leaf orphaned to init) ---"
blinkd ps
echo "--- blinkd events --pid 2 (the middle process's life) ---"
blinkd events --pid 2
wait $run
echo "--- blinkd run exited with $? ---"
