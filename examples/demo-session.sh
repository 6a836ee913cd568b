#!/usr/bin/env bash
# Keeps one agent session on the local tier with the embedded default policy (no cloud account):
# init, start, events from a JSON-lines file, a snapshot, complete (handoff note) with its backup to the default
# backup folder (${TIERSTORAGE_DATA:-~/.local/share/TierStorage}/backup), check the backups, restore the session into
# ./restored and list what the catalog holds.
# Run from any directory; the workspace is ./.tierstorage unless TIERSTORAGE_WORKSPACE says otherwise.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$repo/out/cli" -nologo -v q >/dev/null
ts() { dotnet "$repo/out/cli/tierstorage.dll" "$@"; }

[ -f "${TIERSTORAGE_WORKSPACE:-.tierstorage}/tierstorage.yaml" ] || ts init
ts session start --phase 1 --complete-active
ts event add --stdin < "$repo/examples/sample-events.jsonl"
ts snapshot save --file "$repo/examples/sample-snapshot.json"
ts event list --type tool_call --last 5
ts session complete --wait
ts backup test
ts session list
ts snapshot get --latest
session=$(ts session list --json | tail -n 1 | sed -E 's/.*"sessionId":"([^"]+)".*/\1/')
rm -rf restored
ts restore "$session" --destination restored
cmp "${TIERSTORAGE_WORKSPACE:-.tierstorage}/logs/session_current.jsonl" restored/activity.jsonl && echo "restored log is byte-identical"
