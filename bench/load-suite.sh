#!/usr/bin/env bash
# The open-loop suite behind the README's "Under load" table: every scenario against this
# checkout's evsip and Kamailio (4 children), and, when BEFORE names another checkout's
# bin/evsip.js (built), the same traffic against that evsip alone, back to back. Each run appends
# its table to bench/RESULTS.md. The fixed-rate rows run with both pacers (bench/README.md,
# "Pacing"): the even sending thread and the ~1 ms timer ticks. About 45 minutes; run it on a quiet
# machine.
#   npm run build && BEFORE=../evsip-old/bin/evsip.js bash bench/load-suite.sh
set -u
cd "$(dirname "$0")/.."
run() { echo "### $*"; timeout 600 node dist/bench/load.js "$@" 2>&1 | grep -vE "^(evsip|kamailio): "; }
runb() {
  [ -n "${BEFORE:-}" ] || return 0
  echo "### BEFORE $*"
  EVSIP_LOAD_BIN="$BEFORE" timeout 600 node dist/bench/load.js "$@" --target evsip 2>&1 | grep -vE "^(evsip|kamailio): "
}
both() { run "$@"; runb "$@"; }
uptime
both --scenario async --rate 5000 --duration 5 --cold --driver sipp
both --scenario async --rate 9000 --duration 5 --driver sipp
# SIP over one TCP connection, a trunk's way (docs/load.md, "Over TCP"): async at 9,000/s, and the
# stateful proxy at 5,500/s with its callee over UDP.
both --scenario async --rate 9000 --duration 10 --driver sipp --sipp-transport t1
both --scenario proxy --rate 5500 --duration 10 --driver sipp --sipp-transport t1
# Even input runs three times (one run's p99 moves by up to 2.7× here): the last table of each is
# the median (min–max) of every figure that has a ratio, and of the ratios, over the three.
for s in async rpc relay; do for r in 2000 5000; do both --scenario "$s" --rate "$r" --duration 10 --pacer thread --repeat 3; done; done
both --scenario proxy --rate 2000 --duration 10 --pacer thread --repeat 3
for s in async rpc relay; do for r in 2000 5000; do both --scenario "$s" --rate "$r" --duration 10 --pacer timer; done; done
both --scenario proxy --rate 2000 --duration 10 --pacer timer
# The ceilings run with the timer pacer, as in the earlier suites, so their rows compare.
both --scenario proxy --steps 2000:8000:2000 --step-duration 8 --pacer timer
both --scenario async --steps 4000:16000:4000 --step-duration 8 --pacer timer
# With even input evsip's async ceiling is lower: 8,000/s, as Kamailio's (docs/load.md, "Even input").
both --scenario async --steps 4000:16000:4000 --step-duration 8 --pacer thread
run --scenario async --rate 2000 --duration 60 --mem-every 10 --evsip-metrics
runb --scenario async --rate 2000 --duration 60 --mem-every 10
uptime
