#!/usr/bin/env bash
# Issue 13, alerts: what the alert step costs the nightly `tierstorage run`. The same workspace (its local tier past
# critical, so its alerts stay open run after run) with the policy's alerts section (a file channel and a syslog
# channel to a socket this script binds) against the same policy without it: the run a user has today. In steady
# state nothing is sent (each alert went out once); the step evaluates the conditions and saves logs/alerts.json.
#
# Usage (from anywhere):
#   bench/whole/alerts.sh [--cli DIR] [--runs N]
#     --cli DIR   an already built CLI (a folder holding tierstorage.dll); default: build this checkout's into a temp dir
#     --runs N    timed alternating pairs (default 15)
# Goal: the alert step adds at most 15% to the run's wall time (ratio <= 1.15).
set -euo pipefail

cli_dir="" runs=15
while (($#)); do
  case "$1" in
    --cli) cli_dir=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
need python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-alerts.XXXXXX")
trap 'kill "${syslog_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "$cli_dir" ]; then
  echo "building the CLI into $work/cli" >&2
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$work/cli" >>"$BENCH_LOG" 2>&1
  cli_dir="$work/cli"
fi
ts="dotnet $cli_dir/tierstorage.dll"

# A syslog daemon stand-in: a Unix datagram socket that drains what it gets.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
while True: s.recv(4096)
' "$work/log.sock" &
syslog_pid=$!

tiers='version: 1
tiers:
  - name: local
    level: 1
    kind: folder
    capacity: 16KB
  - name: backup
    level: 2
    kind: folder
    path: '"$work"'/backup
'
for ws in with without; do
  $ts init --workspace "$work/$ws" >>"$BENCH_LOG" 2>&1
  # Deterministic content: ten completed sessions with twenty events each, so usage and growth have something to read.
  for i in $(seq -w 1 10); do
    $ts session start --workspace "$work/$ws" --phase 1 --id "session_20261101_0900$i" >>"$BENCH_LOG" 2>&1
    for j in $(seq 1 20); do echo "{\"timestamp\":\"2026-11-01T09:00:$(printf %02d "$j")Z\",\"type\":\"tool_call\",\"tool\":\"Read\",\"duration_ms\":$j}"; done |
      $ts event add --stdin --workspace "$work/$ws" >>"$BENCH_LOG" 2>&1
    $ts session complete --no-backup --workspace "$work/$ws" >>"$BENCH_LOG" 2>&1
  done
done
printf '%s' "$tiers" >"$work/without/tierstorage.yaml"
printf '%s%s' "$tiers" 'alerts:
  channels:
    - kind: file
    - kind: syslog
      socket: '"$work"'/log.sock
' >"$work/with/tierstorage.yaml"
# First runs: back up, open the alerts and send them once; what follows is the steady state of a nightly job.
$ts run --workspace "$work/with" >>"$BENCH_LOG" 2>&1 || true
$ts run --workspace "$work/without" >>"$BENCH_LOG" 2>&1 || true
$ts alerts --workspace "$work/with" >&2
open=$($ts alerts --workspace "$work/with" --json | wc -l)

echo "$(bench_load); $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
bench_table_header
paired "tierstorage run, $open open alerts, file + syslog channels" "$runs" ":" \
  "$ts run --workspace $work/with || true" "run without alerts:" "$ts run --workspace $work/without || true"
goal "alert step overhead" "$PAIRED_RATIO" 1.15
echo "$(bench_load) after"
