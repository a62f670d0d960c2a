#!/usr/bin/env bash
# Records one load run with everything bench/tail-causes.ts needs and prints its answer: which
# pauses and CPU queues the slow requests overlapped. Needs perf (Debian's linux-perf) with the
# sched tracepoints, run as root (system-wide scheduler tracing; otherwise CAP_PERFMON and read
# access to tracefs). Not a bench: nothing goes to RESULTS.md.
#   npm run build && bash bench/tail-causes.sh --scenario relay --rate 5000 --duration 10 [--target evsip]
# OVER=<µs> sets the threshold for every router (default: each run's own p99).
# The trace (a few hundred MB for both routers at 5,000/s) is deleted afterwards unless KEEP=1,
# and perf is stopped, whatever ends the script.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d "${TMPDIR:-/tmp}/evsip-tail-XXXXXX")
perf=""
finish() {
  if [ -n "$perf" ]; then
    kill -INT "$perf" 2>/dev/null || true
    wait "$perf" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "trace kept in $dir"; else rm -rf "$dir"; fi
}
trap finish EXIT
perf sched record -k CLOCK_MONOTONIC -o "$dir/perf.data" >/dev/null 2>&1 &
perf=$!
sleep 1 # perf is recording before the first request
if ! kill -0 "$perf" 2>/dev/null; then
  echo "perf sched record did not start (perf installed? rights to trace the scheduler?)" >&2
  exit 1
fi
node dist/bench/load.js --no-append --trace-dir "$dir" "$@" | { grep -E "^\| (send|INVITE)→final p(50|99|99\.9) |^\| router CPU" || true; }
kill -INT "$perf"
wait "$perf" || true
perf=""
perf sched timehist -i "$dir/perf.data" 2>/dev/null >"$dir/sched.txt"
rm -f "$dir/perf.data"
node dist/bench/tail-causes.js "$dir" ${OVER:+--over "$OVER"}
