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
watcher=""
cg=""
cleanup() {
  set +e # best effort from here: a failing step must not skip the rest
  if [ -n "$watcher" ]; then
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
  fi
  [ -n "$cg" ] || return 0
  # Move anything left back to the parent group, then remove ours.
  if [ -f "$cg/cgroup.procs" ]; then
    while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs" 2>/dev/null || true; done <"$cg/cgroup.procs"
  fi
  # A router's processes may still be exiting: wait for the group to empty (up to 5 s).
  for _ in $(seq 1 100); do
    rmdir "$cg" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "cap-cpu: could not remove $cg" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then
  cg=/sys/fs/cgroup/cpu/$name
  mkdir "$cg"
  echo "$period" >"$cg/cpu.cfs_period_us"
  echo "$quota" >"$cg/cpu.cfs_quota_us"
else
  grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || {
    echo "cap-cpu: no cgroup cpu controller here (v1 /sys/fs/cgroup/cpu, or v2 with +cpu in cgroup.subtree_control)" >&2
    exit 2
  }
  cg=/sys/fs/cgroup/$name
  mkdir "$cg"
  echo "$quota $period" >"$cg/cpu.max"
fi
cd "$(dirname "$0")/.."
# Every process below `root` (the load tool's children: the routers, Kamailio's workers, peers).
descendants() {
  local kids
  kids=$(pgrep -P "$1" || true)
  for k in $kids; do
    echo "$k"
    descendants "$k"
  done
}
EVSIP_LOAD_CPU_CAP="$pct % of one core" node dist/bench/load.js "$@" &
tool=$!
# The routers start as children of the tool (one after the other with --target both): keep moving
# every evsip and Kamailio process below the tool into the cgroup while it runs.
(
  while kill -0 "$tool" 2>/dev/null; do
    for p in $(descendants "$tool"); do
      case "$(cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' ' ')" in
        *bin/evsip.js\ run* | *kamailio*)
          grep -qx "$p" "$cg/cgroup.procs" || echo "$p" >"$cg/cgroup.procs" 2>/dev/null || true
          ;;
      esac
    done
    sleep 0.05
  done
) &
watcher=$!
status=0
wait "$tool" || status=$?
exit "$status"
