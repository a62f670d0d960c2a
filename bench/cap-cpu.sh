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
cg=""
cleanup() {
  set +e # best effort from here: a failing step must not skip the rest
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
# The tool starts each router through a shell that puts itself in the group and then execs the
# router (test/support/in-cgroup.ts): Kamailio's workers, forked later, inherit it.
EVSIP_CGROUP_PROCS="$cg/cgroup.procs" EVSIP_LOAD_CPU_CAP="$pct % of one core" node dist/bench/load.js "$@" &
tool=$!
status=0
wait "$tool" || status=$?
exit "$status"
