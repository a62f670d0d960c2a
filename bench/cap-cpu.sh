#!/usr/bin/env bash
# Runs the load tool with the router under test (evsip, or all of Kamailio's processes) capped to a
# share of one core by a CPU cgroup, so that its overload behaviour can be driven on a machine whose
# load tool cannot send twice the router's uncapped ceiling. Needs root and a cgroup cpu controller
# (v1 at /sys/fs/cgroup/cpu, or v2). The tool, its UAS and the peers are not capped.
#
#   bash bench/cap-cpu.sh 25 --scenario proxy --steps 1000:3000:1000 --step-duration 8 --target evsip
#
# PERCENT of one core, over a 4 ms period (short, so the cap acts as a slower CPU rather than as
# pauses). The cgroup is removed at the end.
set -euo pipefail
pct=$1
shift
period=4000
quota=$((period * pct / 100))
[ "$quota" -ge 1000 ] || { echo "cap-cpu: at least 25 (the kernel's smallest quota is 1 ms of 4)" >&2; exit 2; }
name="evsip-load-cap-$$"
if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then
  cg=/sys/fs/cgroup/cpu/$name
  mkdir "$cg"
  echo "$period" >"$cg/cpu.cfs_period_us"
  echo "$quota" >"$cg/cpu.cfs_quota_us"
else
  cg=/sys/fs/cgroup/$name
  mkdir "$cg"
  echo "$quota $period" >"$cg/cpu.max"
fi
cleanup() {
  # Move anything left back to the root group, then remove ours.
  if [ -f "$cg/cgroup.procs" ]; then
    while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs" 2>/dev/null || true; done <"$cg/cgroup.procs"
  fi
  rmdir "$cg" 2>/dev/null || true
}
trap cleanup EXIT
cd "$(dirname "$0")/.."
# The routers start as children of the tool (one after the other with --target both): keep
# moving every evsip and Kamailio process into the cgroup while the tool runs.
(
  while true; do
    for p in $(pgrep -f 'bin/evsip.js run' || true) $(pgrep -x kamailio || true); do
      grep -qx "$p" "$cg/cgroup.procs" || echo "$p" >"$cg/cgroup.procs" 2>/dev/null || true
    done
    sleep 0.05
  done
) &
watcher=$!
status=0
EVSIP_LOAD_CPU_CAP="$pct % of one core" node dist/bench/load.js "$@" || status=$?
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
exit "$status"
