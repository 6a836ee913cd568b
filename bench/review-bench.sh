#!/usr/bin/env bash
# Issues 5 and 12: `tierstorage review` of a 20-session phase of 1,000,000 events, as whole processes beside the same
# aggregates in DuckDB (loading the events exported as gzipped JSON lines) and sqlite3 (over the catalog), in alternating
# pairs (bench/whole/lib.sh `paired`: a warm-up pair, then odd pairs run the review first, even pairs the peer first).
# Goals (issue 12): the review's median wall time <= 1.5x DuckDB's, and <= 500 MB max RSS.
# The first review of the phase after it was built reads the rollups its sessions stored when they completed, and writes
# phase_analytics.db (the phase's share of the catalog); later reviews of the unchanged phase find it current. The first one
# is timed on its own, before the pairs.
#
# Usage (from anywhere; paths are taken from the repository root):
#   bench/review-bench.sh [--sessions N] [--events N] [--runs N] [--cli DIR] [--keep | --reuse DIR]
#     --sessions N  sessions in the phase (default 20)
#     --events N    events in the phase, the sessions' own session_start/session_end included (default 1000000)
#     --runs N      timed pairs of each comparison (default 5)
#     --cli DIR     use an already built CLI (a folder holding tierstorage.dll) instead of building one
#     --keep        keep the temporary workspace and outputs (their path is printed)
#     --reuse DIR   time again on the phase that a --keep run left in DIR (skips building it; DIR is kept)
# Needs dotnet, node 20 and npm; installs sqlite3 and GNU time with apt-get when they are missing (as root).
# Prints a markdown table on stdout (progress on stderr); exits non-zero if the review and the SQL runs disagree.
set -euo pipefail

sessions=20 events=1000000 runs=5 cli_dir="" keep=false reuse=""
while (($#)); do
  case "$1" in
    --sessions) sessions=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cli) cli_dir=$(cd "$2" && pwd); shift 2 ;;
    --keep) keep=true; shift ;;
    --reuse) reuse=$(cd "$2" && pwd); keep=true; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
bench="$repo/bench/review"
# shellcheck source=whole/lib.sh
. "$repo/bench/whole/lib.sh"
work=${reuse:-$(mktemp -d "${TMPDIR:-/tmp}/review-bench.XXXXXX")}
if ! $keep; then trap 'rm -rf "$work"' EXIT; fi
say() { printf '\n== %s\n' "$*" >&2; }

# --- prerequisites ---------------------------------------------------------------------------------------------------
missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  say "installing ${missing[*]} with apt-get"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in dotnet node npm sqlite3 gzip; do
  command -v "$tool" >/dev/null || { echo "review-bench: $tool is required" >&2; exit 1; }
done
if [[ ! -d "$bench/node_modules/@duckdb/node-api" ]]; then
  say "npm ci (DuckDB for node) in bench/review"
  (cd "$bench" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ -z "$cli_dir" && -n "$reuse" && -f "$work/cli/tierstorage.dll" ]]; then
  cli_dir="$work/cli"
elif [[ -z "$cli_dir" ]]; then
  say "building the CLI (Release)"
  cli_dir="$work/cli"
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$cli_dir" -nologo -v quiet >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
fi
ts() { dotnet "$cli_dir/tierstorage.dll" "$@" --workspace "$work/ws"; }
# The default policy's backup tier is ${TIERSTORAGE_DATA}/backup: keep it inside the temporary folder too.
export TIERSTORAGE_DATA="$work/data"

# Runs a command under GNU time; appends "<wall s> <max RSS MB> <CPU s (user + sys)>" to the named figures file.
# CPU time is the figure that other jobs on a shared machine disturb least.
timed() {
  local figures=$1; shift
  /usr/bin/time -v -o "$work/time.txt" "$@"
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
    /Maximum resident set size/ { rss = $2 / 1024 }
    /User time \(seconds\)|System time \(seconds\)/ { cpu += $2 }
    END { printf "%.3f %.1f %.2f\n", wall, rss, cpu }' "$work/time.txt" >>"$figures"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- the phase -------------------------------------------------------------------------------------------------------
db="$work/ws/analytics/agent_metrics.db"
load_setup=$(load)
if [[ -n "$reuse" ]]; then
  say "reusing the phase in $work"
  sessions=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM sessions WHERE phase = 1")
  events=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM events e JOIN sessions s USING (session_id) WHERE s.phase = 1")
  ingest_seconds=0
else
  say "building a phase of $sessions sessions, $events events, through the CLI (event add --stdin)"
  ts init >/dev/null
  ts phase start 1 --name review-bench >/dev/null
  per_session=$(((events - 2 * sessions) / sessions)) extra=$(((events - 2 * sessions) % sessions))
  ingest_started=$(date +%s.%N)
  for ((s = 0; s < sessions; s++)); do
    # Fixed dates (one session a day from 2026-11-01 08:00 UTC) so every run reviews the same events.
    day=$(date -u -d "2026-11-01 +$s days" +%Y%m%d)
    id="session_${day}_080000"
    count=$((per_session + (s < extra ? 1 : 0)))
    ts session start --phase 1 --id "$id" >/dev/null
    node "$bench/generate-events.mjs" "$s" "$count" "$(date -u -d "${day} 08:00:00" +%s)000" | ts event add --stdin --session "$id" >/dev/null
    ts session complete "$id" --no-backup >/dev/null
    printf '.' >&2
  done
  ingest_seconds=$(awk -v a="$ingest_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
fi
stored=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM events e JOIN sessions s USING (session_id) WHERE s.phase = 1 AND s.state = 'Completed'")
[[ "$stored" == "$events" ]] || { echo "review-bench: the catalog holds $stored events of completed phase-1 sessions, not $events" >&2; exit 1; }
printf '\n%s events in %s completed sessions, built in %.1f s; catalog %s MB\n' "$stored" "$sessions" "$ingest_seconds" "$(($(stat -c %s "$db") / 1048576))" >&2

# --- the first review after the build (rollups read, phase_analytics.db written) ----------------------------------------
rm -f "$work"/{first,duckdb-split}.txt
review_cmd="dotnet '$cli_dir/tierstorage.dll' --json review 1 --workspace '$work/ws' >'$work/review.json'"
say "tierstorage review 1, the first one on this phase ($(bench_load))"
timed "$work/first.txt" bash -c "$review_cmd"
cat "$work/first.txt" >&2

# --- DuckDB's input: the phase's events as JSON lines ----------------------------------------------------------------
if [[ ! -s "$work/events.jsonl.gz" ]]; then
  say "exporting the phase's events (tierstorage event list --phase 1 --json | gzip -1)"
  timed "$work/export.txt" bash -c 'dotnet "$1/tierstorage.dll" event list --phase 1 --json --workspace "$2" | gzip -1 >"$3"' _ "$cli_dir" "$work/ws" "$work/events.jsonl.gz"
  cat "$work/export.txt" >&2
fi

# --- alternating pairs: the review beside DuckDB, then beside sqlite3 -------------------------------------------------------
load_start=$(load)
export BENCH_LOG="$work/bench.log"
paired "\`tierstorage --json review 1\` vs DuckDB (load events.jsonl.gz + aggregates)" "$runs" : "$review_cmd" "DuckDB (node)" \
  "node '$bench/duckdb-aggregates.mjs' '$work/events.jsonl.gz' >'$work/duckdb.out' 2>>'$work/duckdb-split.txt'" >"$work/duck.row"
duck_ratio=$PAIRED_RATIO duck_row=$(cat "$work/duck.row")
paired "\`tierstorage --json review 1\` vs sqlite3 (aggregates.sql over the catalog)" "$runs" : "$review_cmd" "sqlite3 $(sqlite3 --version | cut -d' ' -f1)" \
  "sqlite3 -readonly -json '$db' <'$bench/aggregates.sql' >'$work/sqlite.out'" >"$work/sqlite.row"
sqlite_ratio=$PAIRED_RATIO sqlite_row=$(cat "$work/sqlite.row")
load_end=$(load)
review_rss=$(printf '%s\n' "$duck_row" "$sqlite_row" | awk -F'|' '{ gsub(/ /, "", $4); if ($4 > m) m = $4 } END { print m }')

# --- same answers? ---------------------------------------------------------------------------------------------------
say "do the three agree?"
agreement=$(node "$bench/compare.mjs" "$work/review.json" sqlite3="$work/sqlite.out" duckdb="$work/duckdb.out") && agreed=true || agreed=false
echo "$agreement" >&2

# --- summary ---------------------------------------------------------------------------------------------------------
duckdb_version=$(node -e "console.log(require('$bench/node_modules/@duckdb/node-api/package.json').version)")
cat <<TABLE

Review bench: $sessions sessions, $stored events, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')
dotnet $(dotnet --version), sqlite3 $(sqlite3 --version | cut -d' ' -f1), @duckdb/node-api $duckdb_version, node $(node --version)
load average (1, 5, 15 min): $load_setup at setup, $load_start before the pairs, $load_end after them
$([[ -n "$reuse" ]] && echo "first review of this run (a reused phase: reviewed before, so phase_analytics.db was current)" || echo "first review on the phase (rollups read, phase_analytics.db written and copied)"): $(awk '{ printf "%s s wall, %s MB, %s s CPU", $1, $2, $3 }' "$work/first.txt")
setup: $([[ -n "$reuse" ]] && echo "reused" || printf '%.1f s' "$ingest_seconds") ($sessions × session start, event add --stdin, session complete)$([[ -s "$work/export.txt" ]] && awk '{ printf "; export for DuckDB %s s", $1 }' "$work/export.txt")

$(bench_table_header)
$duck_row
$sqlite_row

DuckDB split, load / aggregates (last runs): $(tail -n 3 "$work/duckdb-split.txt" | sed 's/^duckdb: //' | paste -sd';' | sed 's/;/; /g')
$agreement
TABLE
goal "review vs DuckDB (wall, median of pairs)" "$duck_ratio" 1.5
if awk -v m="$review_rss" 'BEGIN { exit !(m <= 500) }'; then echo "goal met: review max RSS ${review_rss} MB <= 500 MB" >&2
else echo "goal NOT met: review max RSS ${review_rss} MB > 500 MB" >&2; fi
echo "(review vs sqlite3: ${sqlite_ratio}x)" >&2
if $keep; then echo "kept: $work"; fi
$agreed
