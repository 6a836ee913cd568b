#!/usr/bin/env bash
# Shared by bench/whole/s3.sh and bench/whole/restore.sh (issue 12): the CLI build, the issue's input session and an
# s3rver to send it to. Source it after lib.sh.
#
#   build_cli [DIR]            sets TS to "dotnet <dir>/tierstorage.dll", or with --native <dir>/tierstorage (builds Release
#                              into a temp dir unless DIR given)
#   make_input DIR             writes DIR/events.jsonl (17 MB of activity-log events: the workspace's log comes out at
#                              22 MB, the CLI writing each event with its session, id and full timestamp) and
#                              DIR/snap01..10.json (500 KB each), deterministically (seeded LCG in awk): the same bytes
#                              on every machine and run
#   make_session WS INPUT TIER2
#                              a workspace WS whose policy has the default tiers, the level-2 one replaced by TIER2
#                              (a YAML tier entry; "" keeps the default backup folder), holding one
#                              completed session built from INPUT (not backed up); sets SESSION to its id
#   start_s3rver DIR           starts s3rver 3.7.1 (tests/s3rver, npm ci if missing) on 127.0.0.1 over DIR with bucket
#                              "bench"; sets S3_ENDPOINT and S3RVER_PID; stopped by stop_s3rver (also on exit)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# parse_cli_runs ARGS...   the scripts' options: --cli DIR (sets cli, default "": build one), --native (time DIR's native
#                          build: lib.sh ts_exe) and --runs N (sets runs, default 5)
parse_cli_runs() {
  cli=""; runs=5
  while [ $# -gt 0 ]; do
    case $1 in
      --cli) cli=$2; shift 2 ;;
      --native) BENCH_NATIVE=1; shift ;;
      --runs) runs=$2; shift 2 ;;
      *) echo "usage: $0 [--cli DIR [--native]] [--runs N]" >&2; exit 2 ;;
    esac
  done
}

build_cli() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ts-cli.XXXXXX")
    echo "building the CLI (Release) into $dir" >&2
    dotnet build "$REPO/src/TierStorage.Cli" -c Release -o "$dir" -nologo -v q >>"$BENCH_LOG" 2>&1 || { tail -n 30 "$BENCH_LOG" >&2; exit 1; }
  fi
  # Unquoted: the scripts also run "$TS ..." directly (word-split), so DIR holds no spaces.
  if [ "${BENCH_NATIVE:-0}" = 1 ]; then ts_exe "$dir" >/dev/null; TS="$dir/tierstorage"; else TS="dotnet $dir/tierstorage.dll"; fi
}

make_input() {
  local dir=$1 i
  mkdir -p "$dir"
  awk -v target=$((17 * 1024 * 1024)) '
    function rnd(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return int(seed / 65536) % n }
    BEGIN {
      seed = 42; split("Read Edit Bash Grep Write Glob", tools, " "); split("coder reviewer planner tester", agents, " ")
      split("parse policy|write tests|fix build|refactor catalog|review phase", tasks, "|")
      while (bytes < target) {
        i++; s = i % 86400
        ts = sprintf("2026-11-22T%02d:%02d:%02d.%03dZ", int(s / 3600), int(s / 60) % 60, s % 60, rnd(1000))
        if (rnd(3) == 0)
          line = sprintf("{\"timestamp\":\"%s\",\"type\":\"llm_call\",\"agent\":\"%s\",\"task\":\"%s\",\"model\":\"claude-sonnet-4-5\",\"duration_ms\":%d,\"tokens\":{\"input\":%d,\"output\":%d,\"cache_read\":%d,\"cache_write\":%d},\"success\":true}",
            ts, agents[rnd(4)+1], tasks[rnd(5)+1], rnd(20000), rnd(9000), rnd(3000), rnd(30000), rnd(500))
        else {
          h = ""; for (k = 0; k < 6; k++) h = h sprintf("%04x%04x", rnd(32768), rnd(32768))
          line = sprintf("{\"timestamp\":\"%s\",\"type\":\"tool_call\",\"agent\":\"%s\",\"tool\":\"%s\",\"task\":\"%s\",\"duration_ms\":%d,\"success\":%s,\"file\":\"src/TierStorage.Engine/File%d.cs\",\"data\":{\"command\":\"dotnet build -c Release\",\"output_sha\":\"%s\",\"lines\":%d}}",
            ts, agents[rnd(4)+1], tools[rnd(6)+1], tasks[rnd(5)+1], rnd(5000), (rnd(10) ? "true" : "false"), rnd(300), h, rnd(2000))
        }
        print line; bytes += length(line) + 1
      }
    }' >"$dir/events.jsonl"
  for i in $(seq -w 1 10); do
    awk -v step="$i" -v target=$((500 * 1024)) '
      function rnd(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return int(seed / 65536) % n }
      BEGIN {
        seed = 1000 + step; printf "{\"step\":%d,\"files\":[", step; bytes = 20; sep = ""
        while (bytes < target) {
          item = sprintf("%s{\"path\":\"src/module%d/file%d.cs\",\"hash\":\"%04x%04x%04x%04x\",\"lines\":%d,\"status\":\"%s\"}",
            sep, rnd(40), rnd(900), rnd(32768), rnd(32768), rnd(32768), rnd(32768), rnd(3000), (rnd(4) ? "clean" : "modified"))
          printf "%s", item; bytes += length(item); sep = ","
        }
        print "]}"
      }' >"$dir/snap$i.json"
  done
}

make_session() {
  local ws=$1 input=$2 tail=$3 i
  rm -rf "$ws"
  $TS init --workspace "$ws" >>"$BENCH_LOG" 2>&1
  if [ -n "$tail" ]; then
    # The policy's level-2 tier (one tier per level) becomes the one given.
    printf '%s\n' "$tail" >"$ws/bench-tier.yaml"
    awk -v f="$ws/bench-tier.yaml" '
      /^  - name: backup$/ { skip = 1; while ((getline l < f) > 0) print l; next }
      skip && /^  - name: / { skip = 0 }
      !skip { print }' "$ws/tierstorage.yaml" >"$ws/policy.tmp"
    mv "$ws/policy.tmp" "$ws/tierstorage.yaml"; rm "$ws/bench-tier.yaml"
  fi
  $TS policy test --workspace "$ws" >>"$BENCH_LOG" 2>&1 || { echo "the bench policy is invalid:" >&2; $TS policy test --workspace "$ws" >&2; exit 1; }
  $TS session start --workspace "$ws" --phase 1 >>"$BENCH_LOG" 2>&1
  $TS event add --workspace "$ws" --stdin <"$input/events.jsonl" >>"$BENCH_LOG" 2>&1
  for i in $(seq -w 1 10); do $TS snapshot save --workspace "$ws" --file "$input/snap$i.json" >>"$BENCH_LOG" 2>&1; done
  $TS session complete --workspace "$ws" --no-backup >>"$BENCH_LOG" 2>&1
  SESSION=$($TS session list --workspace "$ws" --json | tail -n 1 | sed -E 's/.*"sessionId":"([^"]+)".*/\1/')
}

start_s3rver() {
  local dir=$1 script="$REPO/tests/s3rver/node_modules/s3rver/bin/s3rver.js" out i
  need node nodejs
  [ -f "$script" ] || (cd "$REPO/tests/s3rver" && npm ci --no-audit --no-fund >>"$BENCH_LOG" 2>&1)
  mkdir -p "$dir"
  out=$(mktemp)
  # s3rver's ListObjectsV2 continuation tokens need OpenSSL's legacy provider (as in S3rverFixture).
  node --openssl-legacy-provider "$script" --directory "$dir" --address 127.0.0.1 --port 0 --silent --configure-bucket bench >"$out" 2>&1 &
  S3RVER_PID=$!
  trap stop_s3rver EXIT
  for i in $(seq 1 150); do
    S3_ENDPOINT=$(sed -nE 's/.*S3rver listening on [^:]+:([0-9]+).*/http:\/\/127.0.0.1:\1/p' "$out" | head -n 1)
    [ -n "$S3_ENDPOINT" ] && break
    sleep 0.2
  done
  [ -n "$S3_ENDPOINT" ] || { echo "s3rver did not start:" >&2; cat "$out" >&2; exit 1; }
  echo "s3rver at $S3_ENDPOINT over $dir" >&2
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
}

stop_s3rver() { [ -n "${S3RVER_PID:-}" ] && kill "$S3RVER_PID" 2>/dev/null; S3RVER_PID=; }
