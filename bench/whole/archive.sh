#!/usr/bin/env bash
# Whole-process bench (issue 12): the phase archive as a user runs it, `tierstorage run` (the policy run: phase 1 is
# beyond retention.backup_phases = 1, so it is packed from the folder backup tier into Phase_1.tar.gz on the folder
# archive tier, verified, recorded, and its backup copies removed), against what a user would do instead: tar + pigz
# -6 -p2 of the phase's folder on the backup tier into the archive folder, md5sum of what was written, fsync and
# rename into place. Alternating pairs from the same state (workspace and both tiers reset before every run).
#
#   bash bench/whole/archive.sh [--cli DIR] [--runs N] [--sessions 10] [--log-mb 22] [--snapshot-kb 500] [--work DIR]
#
# Input (seeded): a phase of --sessions sessions like backup-folder.sh's (a ~22 MB log appended by `event add --stdin`,
# 10 snapshots of ~500 KB, handoff), each backed up with `tierstorage backup run` by the CLI under test; then a session
# of phase 2 is started, which puts phase 1 beyond retention. Goal: wall time ratio <= 1.2x.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pack-lib.sh"
pack_setup "$@"

if [ "$reuse" = 0 ]; then
  for ((s = 1; s <= sessions; s++)); do
    id=$(printf 'session_20261101_%06d' "$s")
    echo "generating and backing up $id of $sessions" >&2
    make_session 1 "$id" "$s"
    ts backup run "$id" | tee -a "$BENCH_LOG" | grep -q Succeeded || { echo "the backup of $id did not succeed (log: $BENCH_LOG)" >&2; exit 1; }
  done
  ts session start --phase 2 --id session_20261102_000001 --complete-active >>"$BENCH_LOG"
  cp -a "$work/ws" "$work/pristine"
  cp -a "$work/tiers" "$work/pristine-tiers"
fi
phase=$(find "$work/pristine-tiers/backup" -maxdepth 2 -type d -name 'Phase_1*' | head -1)
[ -n "$phase" ] || { echo "no Phase_1 folder on the backup tier (log: $BENCH_LOG)" >&2; exit 1; }
echo "input: $(basename "$phase") on the backup tier, $(stored_bytes "$phase") B in $(find "$phase" -type f | wc -l) files" >&2

prep="rm -rf '$work/ws' '$work/tiers' '$work/peer' && cp -a '$work/pristine' '$work/ws' && cp -a '$work/pristine-tiers' '$work/tiers' && mkdir -p '$work/peer'"
ts_cmd="dotnet '$cli/tierstorage.dll' run --workspace '$work/ws'"
peer_cmd="tar -cf - -C '$(dirname "$phase")' '$(basename "$phase")' | pigz -6 -p2 > '$work/peer/.Phase_1.tar.gz.tmp' && md5sum '$work/peer/.Phase_1.tar.gz.tmp' && sync '$work/peer/.Phase_1.tar.gz.tmp' && mv '$work/peer/.Phase_1.tar.gz.tmp' '$work/peer/Phase_1.tar.gz'"

bash -c "$prep"; bash -c "$ts_cmd" >>"$BENCH_LOG" || true
archive=$(find "$work/tiers/archive" -name 'Phase_1*.tar.gz' -not -path '*/.tsmeta/*' | head -1)
[ -n "$archive" ] || { echo "the run archived nothing (log: $BENCH_LOG)" >&2; exit 1; }
ts_bytes=$(stat -c %s "$archive")
bash -c "$prep"; bash -c "$peer_cmd" >>"$BENCH_LOG"
peer_bytes=$(stat -c %s "$work/peer/Phase_1.tar.gz")

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(bench_load), $(nproc) cores"
bench_table_header
paired "phase archive (run), $(awk -v b="$(stored_bytes "$phase")" 'BEGIN { printf "%.0f MB", b / 1e6 }')" "$runs" "$prep" "$ts_cmd" "tar + pigz -6 -p2 + md5sum + fsync" "$peer_cmd"
echo
echo "archive: tierstorage $ts_bytes B, peer $peer_bytes B ($(awk -v a="$ts_bytes" -v b="$peer_bytes" 'BEGIN { printf "%.2f", a / b }')x); $(bench_load) at the end"
goal "phase archive time" "$PAIRED_RATIO" 1.2
