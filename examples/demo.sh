#!/usr/bin/env bash
# The main job: a process tree under an emulated PID 1, shown with the inspection commands
# (`blinkd ps`, `pstree`, `inspect`, `events`) while it runs.
# With --web: the same tree in the browser view (`blinkd web`); it starts once a page watches.
set -eu
cd "$(dirname "$0")/.."
export BLINK_PREFIX=${BLINK_PREFIX:-$(mktemp -d)}
export HOLD_MS=${HOLD_MS:-8000}
blinkd() { node bin/blinkd.js "$@"; }
web=
if [ "${1:-}" = "--web" ]; then
  # init waits for this file before it starts middle: the tree begins when a page watches.
  export DEMO_GATE=$BLINK_PREFIX/start-the-tree
fi
blinkd run -- node dist/examples/init-tree.js &
run=$!
if [ -n "${DEMO_GATE:-}" ]; then
  until blinkd ps >/dev/null 2>&1; do sleep 0.2; done
  out=$BLINK_PREFIX/web.out
  blinkd web ${WEB_PORT:+--port "$WEB_PORT"} >"$out" &
  web=$!
  trap 'kill $web $run 2>/dev/null; exit 130' INT TERM
  until grep -q "open http" "$out"; do sleep 0.1; done
  echo "--- blinkd web: open this URL in a browser on this machine ---"
  grep -o "http://[^ ]*" "$out"
  echo "--- the tree starts when the page is open (or in 120 s): init starts middle, middle starts leaf"
  echo "    and exits ($((HOLD_MS / 1000)) s later), leaf is orphaned to init, and init reaps it $((HOLD_MS / 1000)) s after that ---"
  for _ in $(seq 1200); do grep -q "page.* watching" "$out" && break; sleep 0.1; done
  touch "$DEMO_GATE"
fi
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
if [ -n "$web" ]; then
  if [ -t 0 ]; then
    echo "--- the namespace is over; the page keeps its history: pause and step back through it. Ctrl-C ends the demo ---"
    wait $web || true
  else
    kill $web
  fi
fi
