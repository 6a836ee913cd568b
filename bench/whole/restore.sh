#!/usr/bin/env bash
# Issue 12, restore row: `tierstorage restore` of a session from the folder backup tier beside `restic restore latest`
# of the same session's files from a local restic repository.
# Input: one completed session made from a 22 MB activity log (JSON lines) and 10 snapshots of 500 KB, generated
# deterministically, plus its catalog; backed up once with `tierstorage backup run` (folder tier) and once with
# `restic backup` (the session's log, snapshots, handoff and catalog as they lie in the workspace).
#   bash bench/whole/restore.sh [--cli DIR] [--runs N]
# Goal (issue 12): restore from folder <= 0.7x restic restore (keep).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/session-input.sh"

parse_cli_runs "$@"
need restic

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-restore.XXXXXX")
trap 'rm -rf "$work"' EXIT
build_cli "$cli"
echo "generating the input in $work" >&2
make_input "$work/input"
export TIERSTORAGE_DATA="$work/data"
ws="$work/ws"
make_session "$ws" "$work/input" ""
$TS backup run --workspace "$ws" --quiet "$SESSION" >>"$BENCH_LOG" 2>&1

files="$work/files"; mkdir -p "$files"
cp "$ws"/logs/*.jsonl "$ws"/state/*.json.gz "$ws"/analytics/agent_metrics.db "$files"/
cp "$ws"/handoffs/* "$files"/ 2>/dev/null || true
export RESTIC_REPOSITORY="$work/restic" RESTIC_PASSWORD=bench
restic init >>"$BENCH_LOG" 2>&1
(cd "$files" && restic backup . >>"$BENCH_LOG" 2>&1)
echo "input: $(du -sb "$files" | cut -f1) bytes in $(ls "$files" | wc -l) files" >&2

echo "## Restore from a folder tier, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(bench_load)"
echo "tierstorage: $TS; peer: $(restic version)"
echo
bench_table_header
paired "restore, from folder" "$runs" "rm -rf '$work/out'" \
  "$TS restore --workspace '$ws' --destination '$work/out' $SESSION" \
  "restic restore" "restic restore latest --target '$work/out'"
ratio=$PAIRED_RATIO
echo
echo "after: $(bench_load)"
goal "restore, from folder" "$ratio" 0.7
