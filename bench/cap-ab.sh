#!/usr/bin/env bash
# Alternating A/B of two evsip variants under the CPU cap (bench/cap-cpu.sh), one pair at a time.
# Capped runs of one build drift by 2× within an hour on this machine (docs/load.md, "Capped async
# calls, without the loop"), so two variants compare only run beside each other, many times over.
#
#   bash bench/cap-ab.sh PAIRS PERCENT "A" "B" load args...
#   bash bench/cap-ab.sh 8 25 "" "--evsip-node-args '--single-threaded'" \
#     --scenario async --rate 3000 --duration 8 --pacer thread
#   bash bench/cap-ab.sh 8 25 "EVSIP_LOAD_BIN=/path/to/other/build/bin/evsip.js" "" --scenario proxy --rate 2000 --duration 8
#
# A variant is words of its own: NAME=value sets the environment of its runs, the rest are added to
# the load tool's arguments (shell quoting applies). The order within a pair alternates. Each run is
# evsip alone and not appended to bench/RESULTS.md; its calls completed, refused and lost are
# printed, then per variant the mean completed, the runs that lost calls and the pairs won. With
# SIPp's driver "refused" is SIPp's failed count, which also holds calls that timed out. A run that
# fails stops the script (set -e): a half-measured pair would compare nothing.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: bash bench/cap-ab.sh PAIRS PERCENT \"A\" \"B\" load args..." >&2; exit 2; }
pairs=$1 pct=$2 va=$3 vb=$4
shift 4
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "cap-ab: PAIRS is a whole number of pairs, 1 or more" >&2; exit 2; }
cd "$(dirname "$0")/.."

# Runs variant $1 (its words in $2) once with the load args after them; prints "completed refused lost".
run() {
  local name=$1 words env=() extra=() w out
  eval "words=($2)"
  shift 2
  for w in "${words[@]+"${words[@]}"}"; do
    if [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then env+=("$w"); else extra+=("$w"); fi
  done
  out=$(env "${env[@]+"${env[@]}"}" bash bench/cap-cpu.sh "$pct" "$@" "${extra[@]+"${extra[@]}"}" \
    --target evsip --no-append 2>&1) || { echo "cap-ab: variant $name failed:" >&2; echo "$out" | tail -5 >&2; return 1; }
  # The open-loop tool reports finals by status; SIPp's driver, successful and failed.
  awk -F'|' '
    # "| finals by status | 200: 17794, 503: 6206 |": status and count in turn.
    $2 ~ /^ *finals by status *$/ {
      n = split($3, a, /[:, ]+/); status = ""
      for (j = 1; j <= n; j++) {
        if (a[j] == "") continue
        if (status == "") { status = a[j]; continue }
        if (status ~ /^2/) ok += a[j]; else if (status ~ /^[3-6]/) ref += a[j]
        status = ""
      }
    }
    $2 ~ /^ *successful *$/ { gsub(/[ ,]/, "", $3); ok = $3 }
    $2 ~ /^ *failed \(SIPp/ { gsub(/[ ,]/, "", $3); ref = $3 }
    $2 ~ /^ *lost \(no final/ { gsub(/[ ,]/, "", $3); lost = $3 }
    $2 ~ /^ *not successful/ { gsub(/[ ,]/, "", $3); notok = $3 }
    # SIPp: what it neither completed nor counted failed went unanswered.
    END { if (notok != "") lost = notok - ref; printf "%d %d %d\n", ok, ref, lost }' <<<"$out"
}

declare -A words=([A]=$va [B]=$vb) got sum=([A]=0 [B]=0) lossy=([A]=0 [B]=0) won=([A]=0 [B]=0)
for i in $(seq 1 "$pairs"); do
  order="A B"
  [ $((i % 2)) -eq 0 ] && order="B A"
  for v in $order; do
    read -r ok ref lost < <(run "$v" "${words[$v]}" "$@")
    printf "pair %d %s: completed %d, refused %d, lost %d\n" "$i" "$v" "$ok" "$ref" "$lost"
    got[$v]=$ok
    sum[$v]=$((sum[$v] + ok))
    [ "$lost" -gt 0 ] && lossy[$v]=$((lossy[$v] + 1))
  done
  if [ "${got[A]}" -gt "${got[B]}" ]; then won[A]=$((won[A] + 1)); elif [ "${got[B]}" -gt "${got[A]}" ]; then won[B]=$((won[B] + 1)); fi
done
for v in A B; do
  printf "%s [%s]: mean completed %d, runs that lost calls %d of %d, pairs won %d\n" \
    "$v" "${words[$v]}" $((sum[$v] / pairs)) "${lossy[$v]}" "$pairs" "${won[$v]}"
done
