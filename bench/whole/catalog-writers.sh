#!/usr/bin/env bash
# Issue 14: events/s appended through a shared PostgreSQL catalog by 1, 10 and 50 writer PROCESSES at once, beside pgbench
# on the same server inserting the same rows into a table of the same shape, and beside the SQLite catalog (one file, the
# same writer processes); then Get-SessionEvent's queries on a catalog of --query-events events (goal: < 5 ms each on
# 10,000,000).
#
#   bench/whole/catalog-writers.sh [--events E] [--writers "1 10 50"] [--batches "1 10 100"] [--query-events N]
#                                  [--fsync "on off"] [--no-sqlite] [--no-queries] [--bench DIR]
#
# The server: a private PostgreSQL 15 (initdb into a temp dir, as the postgres account when run as root, on a free
# port of 127.0.0.1, scram password over TCP as a shared catalog is reached), with Debian's default settings except
# max_connections = 200. fsync = on is how a user's server runs (each commit waits for the disk); "off" also sets
# synchronous_commit and full_page_writes off (how the xUnit fixture runs), which shows what the disk costs.
# Each writer process (bench/TierStorage.Bench catalog-writer, built Release) opens the catalog through
# CatalogDatabase.OpenAsync(CatalogLocation), inserts its own session, waits for the common start, then appends E events
# through AddEventsAsync, B per call (1: the hook; 100: an import). pgbench: -c W -j 2 -M prepared, each client E/B
# transactions of B single-row INSERT ... ON CONFLICT DO NOTHING RETURNING event_id into pgb_events (CREATE TABLE ... LIKE
# events INCLUDING ALL: the same columns and indexes, no foreign key) plus the UPDATE of its session's counter, each
# statement a round trip (what the catalog sends as one batch).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

events=2000 writers="1 10 50" batches="1 10 100" query_events=10000000 fsyncs="on" sqlite=1 queries=1 bench_dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --events) events=$2; shift 2 ;;
    --writers) writers=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --query-events) query_events=$2; shift 2 ;;
    --fsync) fsyncs=$2; shift 2 ;;
    --no-sqlite) sqlite=0; shift ;;
    --no-queries) queries=0; shift ;;
    --bench) bench_dir=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

pg_bin=${TIERSTORAGE_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$pg_bin/initdb" ] || { echo "needs PostgreSQL 15's initdb in $pg_bin (apt-get install postgresql-15)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ts-catalog-writers.XXXXXX")
chmod 755 "$work"
servers=()
cleanup() {
  for data in "${servers[@]}"; do as_pg "$pg_bin/pg_ctl" stop -m fast -w -D "$data" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -z "$bench_dir" ]; then
  bench_dir=$work/bench
  echo "building bench/TierStorage.Bench (Release) into $bench_dir" >&2
  dotnet build "$repo/bench/TierStorage.Bench" -c Release -o "$bench_dir" -nologo -v:q >>"$BENCH_LOG" 2>&1 \
    || { tail -n 30 "$BENCH_LOG" >&2; exit 1; }
fi
driver=(dotnet "$bench_dir/TierStorage.Bench.dll")

export BENCH_PG_PASSWORD
BENCH_PG_PASSWORD=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export PGPASSWORD=$BENCH_PG_PASSWORD PGUSER=bench PGHOST=127.0.0.1

# start_server FSYNC: a new server; sets PGPORT and the variable data.
start_server() {
  local fsync=$1 dir
  dir=$work/pg-fsync-$fsync
  mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
  echo "$BENCH_PG_PASSWORD" >"$work/pw"; chmod 644 "$work/pw"
  as_pg "$pg_bin/initdb" -D "$dir/data" -U bench --pwfile "$work/pw" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C >>"$BENCH_LOG" 2>&1
  rm -f "$work/pw"
  PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export PGPORT
  {
    echo "listen_addresses = '127.0.0.1'"; echo "port = $PGPORT"; echo "unix_socket_directories = '$dir'"
    echo "max_connections = 200"
    if [ "$fsync" = off ]; then echo "fsync = off"; echo "synchronous_commit = off"; echo "full_page_writes = off"; fi
  } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  as_pg "$pg_bin/pg_ctl" start -w -D "$dir/data" -l "$dir/server.log" >>"$BENCH_LOG" 2>&1
  servers+=("$dir/data")
}

# Timeout: fifty scram logins at once on a loaded machine can take longer than Npgsql's default 15 s.
connection() { echo "Host=127.0.0.1;Port=$PGPORT;Username=bench;Database=$1;Timeout=120;Command Timeout=600"; }

# pgbench_script B W: the transaction of one pgbench client.
pgbench_script() {
  local b=$1 i
  echo "BEGIN;"
  for ((i = 0; i < b; i++)); do
    echo "INSERT INTO pgb_events(session_id, ts, type, agent, tool, task, duration_ms, success, file, data, event_key) VALUES ('session_w' || :client_id, 1795996800000 + :client_id, 'tool_call', 'coder', 'Bash', 'task-1', 12, 1, 'src/file1.cs', '{\"writer\":1,\"seq\":1}', gen_random_uuid()::text) ON CONFLICT (session_id, event_key) WHERE event_key IS NOT NULL DO NOTHING RETURNING event_id;"
  done
  echo "UPDATE pgb_sessions SET event_count = event_count + $b WHERE session_id = 'session_w' || :client_id;"
  echo "END;"
}

run_pgbench() {
  local w=$1 b=$2 db=$3 out tps t0 t1 cpu0 cpu1
  psql -q -d "$db" -c "DROP TABLE IF EXISTS pgb_events, pgb_sessions" \
    -c "CREATE TABLE pgb_events (LIKE events INCLUDING ALL)" \
    -c "CREATE TABLE pgb_sessions AS SELECT 'session_w' || c AS session_id, 0::bigint AS event_count FROM generate_series(0, $w - 1) c" \
    -c "ALTER TABLE pgb_sessions ADD PRIMARY KEY (session_id)" >>"$BENCH_LOG" 2>&1
  pgbench_script "$b" >"$work/pgbench-$b.sql"
  t0=$EPOCHREALTIME
  out=$("$pg_bin/pgbench" -n -c "$w" -j 2 -M prepared -t $((events / b)) -f "$work/pgbench-$b.sql" "$db" 2>&1) \
    || { echo "$out" >&2; exit 1; }
  t1=$EPOCHREALTIME
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
  local lat rows
  lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  rows=$(psql -At -d "$db" -c "SELECT count(*) FROM pgb_events")
  [ "$rows" = $((w * events)) ] || { echo "pgbench inserted $rows rows, expected $((w * events))" >&2; exit 1; }
  awk -v w="$w" -v b="$b" -v tps="$tps" -v lat="$lat" -v a="$t0" -v z="$t1" 'BEGIN {
    printf "| pgbench (same rows, pgb_events) | %d | %d | %d | %d | avg %s | | %.2f | |\n", w, b, tps * b, tps * b / w, lat, z - a }'
  PGBENCH_ROWS_PER_S=$(awk -v tps="$tps" -v b="$b" 'BEGIN { printf "%d", tps * b }')
}

run_catalog() {
  local label=$1 target=$2 w=$3 b=$4 row
  row=$("${driver[@]}" catalog-writers --no-header --catalog "$target" --password-env BENCH_PG_PASSWORD --writers "$w" --events "$events" \
    --batch "$b" --label "$label")
  echo "$row"
  CATALOG_ROWS_PER_S=$(echo "$row" | awk -F'|' '{ gsub(/[ ,]/, "", $5); print $5 }')
}

echo "## catalog writers: $events events per writer, $(date -u +%Y-%m-%dT%H:%MZ), $(bench_load), $(nproc) cores"
echo
goal_notes=()
for fsync in $fsyncs; do
  start_server "$fsync"
  echo "### PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }'), fsync $fsync"
  echo
  echo "| catalog | writers | events per call | events/s, all writers | events/s per writer (median) | p50 ms per call | p99 ms per call | wall s | writers' CPU s |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  cell=0
  for w in $writers; do
    for b in $batches; do
      cell=$((cell + 1))
      db=cw_${w}_${b}
      psql -q -d postgres -c "CREATE DATABASE $db" >>"$BENCH_LOG" 2>&1
      # Migrate it (one writer of one event, session_w900), so either side may go first.
      "${driver[@]}" catalog-writers --no-header --catalog "$(connection "$db")" --password-env BENCH_PG_PASSWORD --writers 1 --events 1 \
        --first-writer 900 >>"$BENCH_LOG"
      echo "<!-- $(bench_load) -->"
      if [ $((cell % 2)) = 1 ]; then
        run_catalog "PostgreSQL catalog" "$(connection "$db")" "$w" "$b"; run_pgbench "$w" "$b" "$db"
      else
        run_pgbench "$w" "$b" "$db"; run_catalog "PostgreSQL catalog" "$(connection "$db")" "$w" "$b"
      fi
      ratio=$(awk -v a="$CATALOG_ROWS_PER_S" -v p="$PGBENCH_ROWS_PER_S" 'BEGIN { printf "%.0f", 100 * a / p }')
      goal_notes+=("fsync $fsync, W=$w, B=$b: catalog ${ratio}% of pgbench's rows/s")
      if [ "$sqlite" = 1 ] && [ "$fsync" = on ]; then
        mkdir -p "$work/sqlite-$w-$b/analytics"
        run_catalog "SQLite catalog (one file)" "$work/sqlite-$w-$b/analytics/agent_metrics.db" "$w" "$b"
      fi
      psql -q -d postgres -c "DROP DATABASE $db" >>"$BENCH_LOG" 2>&1
    done
  done
  echo
  if [ "$queries" = 1 ] && [ "$fsync" = "$(echo "$fsyncs" | awk '{ print $1 }')" ]; then
    psql -q -d postgres -c "CREATE DATABASE queries" >>"$BENCH_LOG" 2>&1
    echo "### Get-SessionEvent's queries, fsync $fsync ($(bench_load))"
    echo
    "${driver[@]}" catalog-queries --catalog "$(connection queries)" --password-env BENCH_PG_PASSWORD --events "$query_events"
    echo
  fi
done
echo "PostgreSQL catalog against pgbench (goal: >= 30% of pgbench's rows/s at W=10):"
printf -- '- %s\n' "${goal_notes[@]}"
echo "$(bench_load) at the end"
