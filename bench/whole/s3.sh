#!/usr/bin/env bash
# Issue 12, S3 rows: `tierstorage backup run` to an S3 tier and `tierstorage restore` from it, beside `rclone copy` of
# the same session's files up to the same server and back, on s3rver 3.7.1 (tests/s3rver) on 127.0.0.1.
# Input: one completed session made from a 22 MB activity log (JSON lines) and 10 snapshots of 500 KB, generated
# deterministically, plus its catalog. rclone sends the session's files as they lie in the workspace (log, gzipped
# snapshots, catalog, handoff: uncompressed); tierstorage packages, uploads and verifies them.
#   bash bench/whole/s3.sh [--cli DIR] [--runs N]
# Goals (issue 12): backup run <= 1.5x rclone copy; restore <= 1.5x rclone copy back.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/session-input.sh"

parse_cli_runs "$@"
need rclone
need node nodejs

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-s3.XXXXXX")
cleanup() { stop_s3rver; rm -rf "$work"; }
build_cli "$cli"
echo "generating the input in $work" >&2
make_input "$work/input"
start_s3rver "$work/s3"
trap cleanup EXIT
ws="$work/ws"
make_session "$ws" "$work/input" "  - name: backup
    level: 2
    kind: s3
    bucket: bench
    region: us-east-1
    prefix: ts
    storage_class: STANDARD
    endpoint: $S3_ENDPOINT
    force_path_style: true
    capacity: unlimited
    price_per_gb_month: 0"
cp -a "$ws" "$work/ws.pristine"

# rclone's copy of the same files: the session's log, snapshots, handoff and the catalog, as they lie in the workspace.
files="$work/files"; mkdir -p "$files"
cp "$ws"/logs/*.jsonl "$ws"/state/*.json.gz "$ws"/analytics/agent_metrics.db "$files"/
cp "$ws"/handoffs/* "$files"/ 2>/dev/null || true
export RCLONE_CONFIG_S3R_TYPE=s3 RCLONE_CONFIG_S3R_PROVIDER=Other RCLONE_CONFIG_S3R_ENDPOINT=$S3_ENDPOINT \
  RCLONE_CONFIG_S3R_FORCE_PATH_STYLE=true RCLONE_CONFIG_S3R_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_S3R_SECRET_ACCESS_KEY=S3RVER \
  RCLONE_CONFIG_S3R_REGION=us-east-1
# rclone's S3 backend fails to start when AWS_CA_BUNDLE names a CA file ("unable to load custom CA bundle", its HTTP
# transport is its own); s3rver is plain http, so rclone runs without it.
rclone() { env -u AWS_CA_BUNDLE rclone "$@"; }
export -f rclone
echo "input: $(du -sb "$files" | cut -f1) bytes in $(ls "$files" | wc -l) files (log $(stat -c %s "$ws"/logs/*.jsonl), catalog $(stat -c %s "$ws"/analytics/agent_metrics.db))" >&2

echo "## S3 (s3rver 3.7.1 on 127.0.0.1), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(bench_load)"
echo "tierstorage: $TS; peer: $(command rclone version | head -n 1)"
echo
bench_table_header
# The S3 objects live as files under $work/s3/bench; removing a prefix's folder empties it for the next run.
paired "backup run, S3 tier" "$runs" "rm -rf '$work/s3/bench/ts' '$work/s3/bench/rclone' '$ws'; cp -a '$work/ws.pristine' '$ws'" \
  "$TS backup run --workspace '$ws' --tier backup --quiet $SESSION" \
  "rclone copy" "rclone copy '$files' s3r:bench/rclone"
backup_ratio=$PAIRED_RATIO
# Leave one backup on the tier for the restores (and rclone's copy for its way back).
$TS backup run --workspace "$ws" --tier backup --quiet "$SESSION" >>"$BENCH_LOG" 2>&1
rclone copy "$files" s3r:bench/rclone >>"$BENCH_LOG" 2>&1
paired "restore, from S3" "$runs" "rm -rf '$work/out'" \
  "$TS restore --workspace '$ws' --tier backup --destination '$work/out' $SESSION" \
  "rclone copy back" "rclone copy s3r:bench/rclone '$work/out'"
restore_ratio=$PAIRED_RATIO
echo
echo "after: $(bench_load)"
goal "backup run, S3 tier" "$backup_ratio" 1.5
goal "restore, from S3" "$restore_ratio" 1.5
