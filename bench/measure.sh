#!/usr/bin/env bash
# measure.sh LABEL COMMAND...: runs COMMAND, prints "LABEL: wall S s, peak RSS M MB" where the
# peak is of the whole process tree (Spark's JVM is a grandchild, which getrusage misses),
# sampled every 0.2 s from /proc.
set -uo pipefail
label=$1
shift
tree_rss() { # total RSS (kB) of $1 and its descendants
  local pids=$1 frontier=$1 next
  while [ -n "$frontier" ]; do
    next=$(for p in $frontier; do cat /proc/$p/task/*/children 2>/dev/null; done | tr '\n' ' ')
    pids="$pids $next"
    frontier=$(echo $next)
  done
  for p in $pids; do awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
start=$(date +%s.%N)
"$@" &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$(tree_rss "$pid")
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 0.2
done
wait "$pid"
status=$?
end=$(date +%s.%N)
printf '%s: wall %s s, peak RSS %d MB%s\n' "$label" "$(awk "BEGIN { printf \"%.1f\", $end - $start }")" $((peak / 1024)) \
  "$([ $status -ne 0 ] && echo " (FAILED, exit $status)")"
exit $status
