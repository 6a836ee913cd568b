#!/usr/bin/env bash
# Whole-process bench (issue 12): `tierstorage backup run` of one finished session to a folder backup tier, against
# what a user would do instead: tar + pigz -6 -p2 of the session's files (its log, snapshots, handoff and the catalog)
# into the backup folder, then md5sum of what was written (the verification), fsync and rename into place (the crash
# safety the folder store gives). Alternating pairs from the same state (the workspace and tier reset before every run).
#
#   bash bench/whole/backup-folder.sh [--cli DIR] [--runs N] [--log-mb 22] [--snapshot-kb 500] [--work DIR]
#
# Input (seeded): a session with a ~22 MB JSON-lines log appended by `event add --stdin`, 10 snapshots of ~500 KB
# JSON saved by `snapshot save`, its handoff, and the catalog holding its events (analytics/agent_metrics.db).
# Goals: wall time ratio <= 1.0x, stored bytes ratio <= 1.1x.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pack-lib.sh"
pack_setup "$@"

id=session_20261101_000001
if [ "$reuse" = 0 ]; then
  echo "generating the session (log ${log_mb} MB, 10 snapshots of ${snapshot_kb} KB)" >&2
  make_session 1 "$id" 1
  cp -a "$work/ws" "$work/pristine"
fi
log=$(ls "$work/pristine/logs/"*.jsonl)
echo "input: log $(stat -c %s "$log") B, snapshots $(cat "$work/pristine/state/"* | wc -c) B (gzipped by snapshot save), handoff $(stat -c %s "$work/pristine/handoffs/${id}_handoff.md") B, catalog $(du -cb "$work/pristine/analytics" | tail -1 | cut -f1) B" >&2

prep="rm -rf '$work/ws' '$work/tiers' '$work/peer' && cp -a '$work/pristine' '$work/ws' && mkdir -p '$work/peer' '$work/tiers'"
ts_cmd="$(ts_exe "$cli") backup run $id --workspace '$work/ws'"
peer_cmd="cd '$work/pristine' && tar -cf - logs state handoffs analytics | pigz -6 -p2 > '$work/peer/.$id.tar.gz.tmp' && md5sum '$work/peer/.$id.tar.gz.tmp' && sync '$work/peer/.$id.tar.gz.tmp' && mv '$work/peer/.$id.tar.gz.tmp' '$work/peer/$id.tar.gz'"

bash -c "$prep"; bash -c "$ts_cmd" >>"$BENCH_LOG"
ts_bytes=$(stored_bytes "$work/tiers/backup")
[ -f "$(find "$work/tiers/backup" -name manifest.json -not -path '*/.tsmeta/*' | head -1)" ] || { echo "the backup stored no manifest (log: $BENCH_LOG)" >&2; exit 1; }
find "$work/tiers/backup" -type f -not -path '*/.tsmeta/*' -printf '  %f %s B\n' >&2
bash -c "$prep"; bash -c "$peer_cmd" >>"$BENCH_LOG"
peer_bytes=$(stored_bytes "$work/peer")

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(bench_load), $(nproc) cores"
bench_table_header
paired "backup run, folder tier" "$runs" "$prep" "$ts_cmd" "tar + pigz -6 -p2 + md5sum + fsync" "$peer_cmd"
time_ratio=$PAIRED_RATIO
bytes_ratio=$(awk -v a="$ts_bytes" -v b="$peer_bytes" 'BEGIN { printf "%.2f", a / b }')
echo
echo "stored: tierstorage $ts_bytes B, peer $peer_bytes B: bytes ratio ${bytes_ratio}x; $(bench_load) at the end"
goal "backup run time" "$time_ratio" 1.0
goal "backup run bytes" "$bytes_ratio" 1.1
