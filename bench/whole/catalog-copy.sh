#!/usr/bin/env bash
# Whole-process bench (issue 12 rule) for issue 14's catalog migration: `tierstorage catalog copy --to <PostgreSQL>`
# (copy every table, then compare both catalogs table by table) of a catalog of 1,000,000 events in 200 sessions,
# beside pgloader (SQLite -> PostgreSQL, the tool a user would pick for this move), same input, same private
# PostgreSQL 15 server, a fresh database before every run. Prints the table, the copy phase's own rows/s (from the
# command's "Copied N rows ... in X s"), and whether the goal is met.
#
#   bench/whole/catalog-copy.sh [--cli DIR] [--runs N] [--events N]
#
# Needs PostgreSQL 15's initdb/pg_ctl (/usr/lib/postgresql/15/bin or TIERSTORAGE_PG_BIN), sqlite3, psql, pgloader
# (installed with apt-get when missing and root).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

CLI=""; RUNS=3; EVENTS=1000000
while [ $# -gt 0 ]; do
  case $1 in
    --cli) CLI=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
need sqlite3
need psql postgresql-client
need pgloader
PGBIN=${TIERSTORAGE_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/initdb" ] || { echo "needs PostgreSQL 15 (apt-get install postgresql-15)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-catalog-copy.XXXXXX")
PG="$WORK/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  [ -f "$PG/data/postmaster.pid" ] && (cd "$WORK" && as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$CLI" ]; then
  CLI="$WORK/cli"
  dotnet build "$REPO/src/TierStorage.Cli" -c Release -o "$CLI" -nologo -v:q >>"$BENCH_LOG" 2>&1
fi
TS="dotnet $CLI/tierstorage.dll"

# The input: a workspace whose catalog holds $EVENTS events in 200 sessions, generated deterministically in SQL.
WS="$WORK/ws"
$TS init --workspace "$WS" >>"$BENCH_LOG" 2>&1
DB="$WS/analytics/agent_metrics.db"
PER=$((EVENTS / 200))
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT OR IGNORE INTO phases (number, name, started_at) VALUES (1, 'build', 1795000000000);
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 199)
INSERT INTO sessions (session_id, phase, started_at, ended_at, state, log_path, log_indexed_bytes, event_count)
SELECT printf('session_20261201_%06d', i), 1, 1795000000000 + i * 3600000, 1795000000000 + i * 3600000 + 3000000, 'Completed',
       printf('logs/session_20261201_%06d.jsonl', i), $PER * 180, $PER FROM s;
WITH RECURSIVE e(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM e WHERE n < $EVENTS - 1)
INSERT INTO events (session_id, ts, type, agent, tool, duration_ms, input_tokens, output_tokens, model, success, data, event_key, ingest_key)
SELECT printf('session_20261201_%06d', n / $PER), 1795000000000 + (n / $PER) * 3600000 + (n % $PER) * 500,
       CASE n % 4 WHEN 0 THEN 'llm_call' ELSE 'tool_call' END, 'main', CASE n % 4 WHEN 0 THEN NULL ELSE 'Bash' END,
       (n * 7919) % 3000, CASE n % 4 WHEN 0 THEN (n * 31) % 20000 END, CASE n % 4 WHEN 0 THEN (n * 17) % 4000 END,
       CASE n % 4 WHEN 0 THEN 'claude-sonnet-4' END, CASE WHEN n % 37 = 0 THEN 0 ELSE 1 END,
       printf('{"tool_use_id":"toolu_%08d","cmd":"make test %d","exit":%d}', n, n % 97, n % 37 = 0),
       printf('k%d', n), printf('tool_call:toolu_%08d', n)
FROM e;
COMMIT;
SQL
ROWS=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM phases) + (SELECT count(*) FROM workspace_identity)")
echo "input: $DB, $(du -h "$DB" | cut -f1), $ROWS rows ($EVENTS events)" >&2

# A private PostgreSQL 15 on a free port, as the xUnit fixture starts it.
mkdir -p "$PG"; PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'); printf '%s' "$PW" >"$PG/pw"
[ "$(id -u)" = 0 ] && chown -R postgres "$PG" && chmod 755 "$WORK"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$PG" && as_pg "$PGBIN/initdb" -D "$PG/data" -E UTF8 --locale=C -U tsuser --pwfile="$PG/pw" --auth-host=scram-sha-256 --auth-local=trust >>"$BENCH_LOG" 2>&1)
(cd "$PG" && as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -o "-p $PORT -k $PG -c listen_addresses=127.0.0.1" start >>"$BENCH_LOG" 2>&1)
export PGPASSWORD=$PW TS_BENCH_PG=$PW PGOPTIONS="-c client_min_messages=warning"
PREP="psql -q -h 127.0.0.1 -p $PORT -U tsuser -d postgres -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench'"
TS_CMD="$TS catalog copy --to 'Host=127.0.0.1;Port=$PORT;Database=bench;Username=tsuser' --password-env TS_BENCH_PG --workspace '$WS'"
PEER_CMD="pgloader --quiet 'sqlite://$DB' 'postgresql://tsuser:$PW@127.0.0.1:$PORT/bench'"

echo "## catalog copy, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(bench_load)"
bench_table_header
: >"$BENCH_LOG.copied"
BENCH_LOG_START=$(wc -l <"$BENCH_LOG")
paired "catalog copy SQLite -> PostgreSQL, $EVENTS events (+ compare)" "$RUNS" "$PREP" "$TS_CMD" "pgloader $(pgloader --version | head -1 | awk '{print $3}' | tr -d '"')" "$PEER_CMD"
echo "after: $(bench_load)"
# The copy phase alone, from each tierstorage run's own report (the rest of its wall time is start-up and the comparison).
tail -n +"$BENCH_LOG_START" "$BENCH_LOG" | grep -o 'Copied [0-9,]* rows into .* in [0-9.]* s' | sed -E 's/Copied ([0-9,]+) rows .* in ([0-9.]+) s/\1 \2/' | tr -d ',' >"$BENCH_LOG.copied"
RATE=$(awk '$1 > 0 { print $1 / $2 }' "$BENCH_LOG.copied" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }')
COPY_S=$(awk '$1 > 0 { print $2 }' "$BENCH_LOG.copied" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
PEER_RATE=$(awk -v r="$ROWS" -v p="$PAIRED_TS_MEDIAN" -v q="$PAIRED_RATIO" 'BEGIN { printf "%.0f", r / (p / q) }')
echo
echo "copy phase: median $COPY_S s for $ROWS rows = $RATE rows/s (tierstorage's whole run also compares both catalogs); pgloader whole run: $PEER_RATE rows/s"
if [ "${RATE:-0}" -ge 20000 ]; then echo "goal (tens of thousands of rows/s copying into PostgreSQL): met ($RATE rows/s)"; else echo "goal (tens of thousands of rows/s copying into PostgreSQL): NOT met ($RATE rows/s)"; fi
rm -f "$BENCH_LOG.copied"
