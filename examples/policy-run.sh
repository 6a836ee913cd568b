#!/usr/bin/env bash
# The scheduled job on the embedded default policy (folder tiers under ${TIERSTORAGE_DATA:-~/.local/share/TierStorage},
# no cloud account), over a sample workspace built from the files in examples/: eight sessions in four phases
# (0 "setup" .. 3 "polish"), completed without their backups. One `tierstorage run` then backs every session up
# (packaged, uploaded, verified), archives the two phases older than retention.backup_phases (2) into one tar.gz each,
# removes what the policy no longer keeps on each tier (only once another tier holds a verified copy), and reports usage.
# Phase 1 is then reviewed (phase_insights.md/.html, phase_analytics.db, phase_metadata.json under reviews/ and on the
# backup tier). A second run finds nothing to do. Run from any directory; the sample lives in ./tierstorage-sample.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$repo/out/cli" -nologo -v q >/dev/null
export TIERSTORAGE_WORKSPACE="${TIERSTORAGE_WORKSPACE:-$PWD/tierstorage-sample}"
ts() { dotnet "$repo/out/cli/tierstorage.dll" "$@"; }

if [ ! -f "$TIERSTORAGE_WORKSPACE/tierstorage.yaml" ]; then
  ts init >/dev/null
  names=(setup build review polish)
  for phase in 0 1 2 3; do
    for half in 09 14; do
      id="session_2026110${phase}_${half}0000"
      ts session start --phase "$phase" --id "$id" >/dev/null
      ts event add --stdin < "$repo/examples/sample-events.jsonl" >/dev/null
      ts snapshot save --file "$repo/examples/sample-snapshot.json" >/dev/null
      ts session complete --no-backup >/dev/null
    done
    echo "sample: phase $phase (${names[$phase]}): 2 sessions recorded"
  done
fi

echo "== tierstorage run"
ts run
echo "== sessions"
ts session list
echo "== tier usage"
ts tier usage
echo "== the end-of-phase review of phase 1 (archived by the run; its events are still in the catalog)"
ts review 1
echo "== a second run has nothing left to do"
ts run | head -n 2
