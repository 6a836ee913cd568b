#!/usr/bin/env bash
# Shared set-up of the packaging benches (issue 12: backup-folder.sh, archive.sh). Source it after lib.sh.
#
#   pack_setup ARGS...     parses --cli DIR, --native (time DIR's native build: lib.sh ts_exe), --runs N, --log-mb N, --snapshot-kb N, --sessions N, --work DIR; makes
#                          $work (a temp dir removed on exit, or --work DIR, kept, whose generated input a later run with
#                          the same --work reuses: $reuse is then 1), builds the CLI Release into $work/cli unless --cli, writes $work/policy.yaml (folder
#                          backup tier $work/tiers/backup, folder archive tier $work/tiers/archive) and inits $work/ws
#   ts ARGS...             runs the CLI against $work/ws
#   make_session PHASE ID SEED   a completed session: events (JSON lines, ~$log_mb MB of log) appended with
#                          `event add --stdin`, 10 snapshots of ~$snapshot_kb KB saved with `snapshot save`, then
#                          `session complete --no-backup` (which writes the handoff)
#   stored_bytes DIR       bytes of the files under DIR, the folder store's .tsmeta sidecars left out
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

pack_setup() {
  cli=""; runs=5; log_mb=22; snapshot_kb=500; sessions=10; work=""; reuse=0
  while [ $# -gt 0 ]; do
    case $1 in
      --cli) cli=$2; shift 2 ;;
      --native) BENCH_NATIVE=1; shift ;;
      --runs) runs=$2; shift 2 ;;
      --log-mb) log_mb=$2; shift 2 ;;
      --snapshot-kb) snapshot_kb=$2; shift 2 ;;
      --sessions) sessions=$2; shift 2 ;;
      --work) work=$2; shift 2 ;;
      *) echo "unknown option $1" >&2; exit 2 ;;
    esac
  done
  need pigz; need md5sum coreutils; need python3
  if [ -n "$work" ]; then
    mkdir -p "$work"; work=$(cd "$work" && pwd)
    [ -d "$work/pristine" ] && reuse=1
  else
    work=$(mktemp -d "${TMPDIR:-/tmp}/ts-bench-pack-XXXXXX")
    trap 'rm -rf "$work"' EXIT
  fi
  if [ -z "$cli" ]; then
    echo "building the CLI (Release) into $work/cli" >&2
    dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$work/cli" -nologo -v q >>"$BENCH_LOG" 2>&1 || { echo "build failed (log: $BENCH_LOG)" >&2; exit 1; }
    cli=$work/cli
  fi
  cli=$(cd "$cli" && pwd)
  [ "$reuse" = 1 ] || cat >"$work/policy.yaml" <<POLICY
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: backup
    level: 2
    kind: folder
    path: $work/tiers/backup
  - name: archive
    level: 3
    kind: folder
    path: $work/tiers/archive
retention:
  local_sessions: 100
  backup_phases: 1
backup:
  on_session_complete: false
  compression_level: 6
POLICY
  # A folder tier's parent must exist (a tier whose root is missing is reported unreachable, not created on a bare mount).
  mkdir -p "$work/tiers"
  [ "$reuse" = 1 ] || ts init --path "$work/ws" --policy-template "$work/policy.yaml" >>"$BENCH_LOG"
  if [ "$reuse" = 1 ]; then
    # A --work kept from an earlier build: open its workspace once with this build, untimed, and keep that as the
    # pristine copy, so that a catalog migration this build brings is not paid inside every timed run (a schema-15
    # pristine made the folder backup 1.03-1.07x instead of 0.84-0.87x: bench/RESULTS.md, "Issue 12, eighth pass").
    rm -rf "$work/ws" && cp -a "$work/pristine" "$work/ws" && ts session list >>"$BENCH_LOG" \
      && rm -rf "$work/pristine" && cp -a "$work/ws" "$work/pristine"
  fi
}

ts() { dotnet "$cli/tierstorage.dll" "$@" --workspace "$work/ws"; }

make_session() {
  local phase=$1 id=$2 seed=$3 i
  ts session start --phase "$phase" --id "$id" --complete-active >>"$BENCH_LOG"
  # The CLI's log line adds the session and event ids to each input line: about 1.24x the input.
  python3 "$here/session-input.py" events "$seed" "$(awk -v m="$log_mb" 'BEGIN { print m / 1.24 }')" | ts event add --stdin >>"$BENCH_LOG"
  for ((i = 1; i <= 10; i++)); do
    python3 "$here/session-input.py" snapshot "$((seed * 100 + i))" "$snapshot_kb" >"$work/snapshot.json"
    # Under heavy load the secret scan of a 500 KB document can exceed the redactor's 1 s limit, and the save is
    # refused (the whole document would be redacted): try again rather than bench a different input.
    local try
    for try in 1 2 3 4 5; do
      ts snapshot save --file "$work/snapshot.json" >>"$BENCH_LOG" 2>&1 && break
      [ "$try" = 5 ] && { echo "snapshot save failed 5 times (log: $BENCH_LOG)" >&2; exit 1; }
    done
  done
  ts session complete --no-backup >>"$BENCH_LOG"
}

stored_bytes() { find "$1" -type f -not -path '*/.tsmeta/*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
