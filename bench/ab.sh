#!/bin/bash
# A/B of the dash loop under `blinkd run`: two checkouts (each built), alternated A B / B A.
# usage: bench/ab.sh PAIRS ROOT_A ROOT_B [N] [SHELL]   (ROOT_*: two built checkouts, e.g. a clean
# clone of main and a branch's worktree; N iterations, 400 by default; dash by default)
# prints per pair: wall and the daemon's CPU per iteration ((t(N) - t(0)) / N, ms), then medians.
P=$1; RA=$2; RB=$3; N=${4:-400}; SH=${5:-dash}
LOOP=$(mktemp /tmp/abloop.XXXX.sh); printf 'i=0; while [ $i -lt $1 ]; do /bin/true; i=$((i+1)); done\n' > $LOOP
RU=$(mktemp /tmp/abru.XXXX)
one() { # root n -> "cpu_ms wall_ms"
  rm -f $RU; local s=$(date +%s%N)
  BLINKD_BENCH_RUSAGE=$RU nice -n 10 node --max-semi-space-size=2 --import $1/dist/bench/rusage.js $1/bin/blinkd.js run -- $SH $LOOP $2 >/dev/null 2>&1
  local e=$(date +%s%N)
  node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).pop();console.log((l.user+l.system)/1000, (process.argv[2]-process.argv[3])/1e6)' $RU $e $s
}
per() { local z=($(one $1 0)); local o=($(one $1 $N)); node -e "console.log(((${o[0]}-${z[0]})/$N).toFixed(3), ((${o[1]}-${z[1]})/$N).toFixed(3))"; }
out=$(mktemp /tmp/about.XXXX)
for p in $(seq $P); do
  if [ $((p % 2)) = 1 ]; then a=$(per $RA); b=$(per $RB); else b=$(per $RB); a=$(per $RA); fi
  echo "pair $p load $(cut -d' ' -f1 /proc/loadavg): A cpu/wall $a   B cpu/wall $b" | tee -a $out
done
node -e '
const L=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(l=>l.match(/A cpu\/wall (\S+) (\S+)\s+B cpu\/wall (\S+) (\S+)/).slice(1).map(Number));
const med=a=>{a=[...a].sort((x,y)=>x-y);return a[a.length>>1]};
const k=(i,j)=>L.filter(r=>r[j]<r[i]).length;
console.log(`median cpu A ${med(L.map(r=>r[0])).toFixed(3)} B ${med(L.map(r=>r[2])).toFixed(3)} ms (B lower in ${k(0,2)} of ${L.length}); wall A ${med(L.map(r=>r[1])).toFixed(3)} B ${med(L.map(r=>r[3])).toFixed(3)} ms (B lower in ${k(1,3)} of ${L.length})`)' $out
rm -f $LOOP $RU $out
