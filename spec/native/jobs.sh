# Shell job control without a terminal: $$, $PPID, background jobs, wait, kill and process
# groups. Run as PID 1 by spec/native.programs.test.ts under `blinkd run` and under
# `unshare --pid --fork --mount-proc`; the two outputs must be the same. Ordering uses a
# FIFO, never a sleep. $1 is a scratch directory. A shell prints "Terminated" for a job
# killed by a signal only when `wait` itself reaps it, which races with the kill on Linux
# too, so those waits send their messages to /dev/null.
dir=$1
# One pipe for both streams: the test reads stdout and stderr from two pipes, whose
# interleaving is the reader's race, and the shell's "Terminated" goes to stderr.
exec 2>&1
echo "me=$$ parent=$PPID"
sh -c 'echo "child me=$$ parent=$PPID"; exit 9'
echo "child status=$?"
(exit 7) & b=$!
wait $b
echo "background $b status=$?"
mkfifo "$dir/up"
sh -c 'read x' < "$dir/up" & r=$!
exec 3> "$dir/up"
kill $r
wait $r 2>/dev/null
echo "killed $r status=$?"
exec 3>&-
setsid sh -c 'sleep 100 & echo "leader me=$$ parent=$PPID" > "$1/up"; wait' sh "$dir" & g=$!
read line < "$dir/up"
echo "$line"
kill -TERM -$g
wait $g 2>/dev/null
echo "group $g killed status=$?"
kill -0 $g 2>/dev/null
echo "after reaping kill -0 status=$?"
kill -0 -12345 2>/dev/null
echo "no such group status=$?"
sh -c 'kill -TERM $$; echo unreachable'
echo "self-killed status=$?"
wait
echo "wait with no children status=$?"
exit 5
