#!/usr/bin/env bash
# Fault campaign (issue 11): kill -9 of the `tierstorage` process at random points of bulk append, backup, policy run
# with archives, restore and catalog rebuild, in two projects that share one backup and one archive tier (same phase
# numbers), one of them copied and the other moved part way. After every kill the same command is run again and must
# finish (exit 0: "converged"); at the end every project is checked: each appended input stored exactly once (no event
# lost, none duplicated), every finished session verified with its bytes read back (backup test --read-data), and the
# original's objects untouched by its copy.
#
#   bash bench/fault-run.sh [POINTS]      (default 60; SEED=n for another sequence)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
points=${1:-60}
RANDOM=${SEED:-11}
work=$(mktemp -d /tmp/ts-fault-XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$work/cli" -nologo -v q >/dev/null || exit 1
ts() { dotnet "$work/cli/tierstorage.dll" "$@"; }

cat > "$work/policy.yaml" <<EOF
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: backup
    level: 2
    kind: folder
    path: $work/shared/backup
  - name: archive
    level: 3
    kind: folder
    path: $work/shared/archive
retention:
  local_sessions: 1
  backup_phases: 1
backup:
  on_session_complete: false
  compression_level: 1
EOF
mkdir -p "$work/shared"

# One input of $1 events, each line unique to the project ($2) and input ($3).
make_input() {
  local n=$1 project=$2 tag=$3
  awk -v n="$n" -v p="$project" -v t="$tag" 'BEGIN { for (i = 0; i < n; i++) printf "{\"timestamp\":\"2026-01-01T%02d:%02d:%02d.%03dZ\",\"type\":\"tool_call\",\"tool\":\"Edit\",\"file\":\"%s/%s/%d.cs\",\"duration_ms\":%d}\n", int(i / 3600000) % 24, int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, p, t, i, i % 997 }'
}

declare -A ws phase sessions expected
ws[a]="$work/a/.tierstorage"; ws[b]="$work/b/.tierstorage"
for p in a b; do
  mkdir -p "$(dirname "${ws[$p]}")"
  ts init --path "${ws[$p]}" --policy-template "$work/policy.yaml" >/dev/null || exit 1
  phase[$p]=0; sessions[$p]=0
done

tried=0; converged=0; failed_reruns=0; killed=0
declare -A kinds
# Runs "$@" in the background, kills it with SIGKILL after a random delay, then runs it to the end; counts the outcome.
kill_and_rerun() {
  local input=$1; shift
  local delay=$((RANDOM % 2500))
  # dotnet itself in the background (not a shell function, whose subshell would take the signal instead).
  if [ -n "$input" ]; then dotnet "$work/cli/tierstorage.dll" "$@" < "$input" >/dev/null 2>&1 & else dotnet "$work/cli/tierstorage.dll" "$@" >/dev/null 2>&1 & fi
  local pid=$!
  sleep "$(printf '0.%03d' $((delay % 1000)))"; [ $delay -ge 1000 ] && sleep $((delay / 1000))
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null
  tried=$((tried + 1))
  local rc
  if [ -n "$input" ]; then ts "$@" < "$input" >"$work/rerun.out" 2>&1; rc=$?; else ts "$@" >"$work/rerun.out" 2>&1; rc=$?; fi
  if [ $rc -eq 0 ]; then converged=$((converged + 1)); else failed_reruns=$((failed_reruns + 1)); echo "rerun of '$*' exited $rc:"; tail -3 "$work/rerun.out"; fi
}

# A session with a copy on a tier (backed up or archived), picked at random.
stored_session() {
  { ts session list --state BackedUp --workspace "$1" --json; ts session list --state Archived --workspace "$1" --json; } |
    grep -o '"sessionId":"[^"]*"' | cut -d'"' -f4 | shuf -n 1 --random-source=<(yes "$RANDOM")
}

copied=0; moved=0
for ((i = 1; i <= points; i++)); do
  p=$([ $((RANDOM % 2)) -eq 0 ] && echo a || echo b)
  w=${ws[$p]}
  if [ $i -eq $((points / 3)) ]; then
    # A copy of a, next to it, while a still exists: it must refuse to write into a's namespace and leave a's objects alone.
    before=$(cd "$work/shared" && find . -type f -exec sha256sum {} + | sort)
    cp -a "$work/a" "$work/a-copy"
    ts backup run --workspace "$work/a-copy/.tierstorage" >/dev/null 2>&1 && { echo "the copy backed up into the original's namespace"; exit 1; }
    ts run --workspace "$work/a-copy/.tierstorage" >/dev/null 2>&1
    after=$(cd "$work/shared" && find . -type f -exec sha256sum {} + | sort)
    [ "$before" = "$after" ] && copied=1 || { echo "the copy changed the shared tiers"; exit 1; }
  fi
  if [ $i -eq $((2 * points / 3)) ]; then
    mv "$work/b" "$work/b-moved"; ws[b]="$work/b-moved/.tierstorage"; moved=1
    [ "$p" = b ] && w=${ws[b]}
  fi
  op=$((RANDOM % 5))
  case $op in
    0|1) # bulk append into a new session (phase advances every 3 sessions), killed mid-way, then sent again
      sessions[$p]=$((sessions[$p] + 1))
      [ $((sessions[$p] % 3)) -eq 0 ] && phase[$p]=$((phase[$p] + 1))
      id=$(printf 'session_2026%02d%02d_%02d0000' $((1 + phase[$p] % 12)) $((1 + sessions[$p] % 28)) $((i % 24)))
      ts session start --phase "${phase[$p]}" --id "$id" --complete-active --workspace "$w" >/dev/null || { echo "start failed"; exit 1; }
      make_input 20000 "$p" "$id" > "$work/input.jsonl"
      kill_and_rerun "$work/input.jsonl" event add --stdin --workspace "$w"
      expected["$p/$id"]=20000
      ts session complete --no-backup --workspace "$w" >/dev/null
      kinds[append]=$(( ${kinds[append]:-0} + 1 )) ;;
    2) kill_and_rerun "" backup run --workspace "$w"; kinds[backup]=$(( ${kinds[backup]:-0} + 1 )) ;;
    3) kill_and_rerun "" run --workspace "$w"; kinds[run]=$(( ${kinds[run]:-0} + 1 )) ;;
    4) if id=$(stored_session "$w") && [ -n "$id" ]; then
         rm -rf "$work/restore"; kill_and_rerun "" restore "$id" --destination "$work/restore" --force --workspace "$w"
         kinds[restore]=$(( ${kinds[restore]:-0} + 1 ))
       else
         kill_and_rerun "" catalog rebuild --from-tier backup --workspace "$w"; kinds[rebuild]=$(( ${kinds[rebuild]:-0} + 1 ))
       fi ;;
  esac
  if [ $((i % 10)) -eq 0 ]; then
    kill_and_rerun "" catalog rebuild --from-tier backup --workspace "$w"; kinds[rebuild]=$(( ${kinds[rebuild]:-0} + 1 ))
  fi
done

# Final state: one more run in each project, then what was lost and what is not verified.
lost=0; duplicated=0; unverified=0; sessions_total=0
for p in a b; do
  w=${ws[$p]}
  ts run --workspace "$w" >/dev/null 2>&1
  again=$(ts run --workspace "$w" --json 2>/dev/null | grep -o '"moves":\[[^]]*\]' | head -1)
  [ "$again" = '"moves":[]' ] || echo "project $p: a second run still planned moves: $again"
  for key in "${!expected[@]}"; do
    [ "${key%%/*}" = "$p" ] || continue
    id=${key#*/}
    n=$(ts event list --session "$id" --type tool_call --workspace "$w" --json | wc -l)
    [ "$n" -lt 20000 ] && lost=$((lost + 20000 - n))
    [ "$n" -gt 20000 ] && duplicated=$((duplicated + n - 20000))
  done
  checks=$(ts backup test --read-data --workspace "$w" --json)
  sessions_total=$((sessions_total + $(ts session list --finished --workspace "$w" --json | wc -l)))
  unverified=$((unverified + $(echo "$checks" | grep -c '"status":"\(Missing\|Corrupt\|Unverified\)"')))
done
echo "points tried: $tried (killed while running: $killed) — append ${kinds[append]:-0}, backup ${kinds[backup]:-0}, run ${kinds[run]:-0}, restore ${kinds[restore]:-0}, rebuild ${kinds[rebuild]:-0}"
echo "reruns converged: $converged of $tried (failed: $failed_reruns)"
echo "two projects on one tier: $(ls "$work/shared/backup" | wc -l) namespaces on the backup tier, $(find "$work/shared/archive" -name '*.tar.gz' | wc -l) phase archives"
echo "copied workspace refused and left the tiers unchanged: $copied; moved workspace went on: $moved"
echo "events lost: $lost, duplicated: $duplicated (of ${#expected[@]} inputs x 20000)"
echo "finished sessions: $sessions_total, without a verified copy: $unverified"
[ $failed_reruns -eq 0 ] && [ $lost -eq 0 ] && [ $duplicated -eq 0 ] && [ $unverified -eq 0 ]
