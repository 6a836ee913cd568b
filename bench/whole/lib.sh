#!/usr/bin/env bash
# Shared helpers for the whole-process benches (issue 12): each bench runs a `tierstorage` command and the peer a user
# would pick instead on the same input, in alternating pairs, under GNU time, and prints one markdown row per pair with
# the medians and the ratio. Source it: `. "$(dirname "$0")/lib.sh"`.
#
#   paired LABEL RUNS PREP "TS_CMD" "PEER_NAME" "PEER_CMD"
#     LABEL      the row's name ("backup run, folder tier")
#     RUNS       timed pairs (after one untimed warm-up pair); odd pairs run tierstorage first, even pairs the peer first
#     PREP       a command run before every single run, untimed (clear the destination; ":" for nothing)
#     TS_CMD     the tierstorage side, one shell command line
#     PEER_CMD   the peer side
#   Each command's stdout and stderr go to $BENCH_LOG (default: a temp file) and a failing run stops the bench.
#   Prints: | LABEL | ts wall (min-max) | ts max RSS | ts CPU | PEER_NAME | peer wall | peer RSS | peer CPU | ratio |
#   and sets PAIRED_RATIO (median wall ratio, ts / peer) and PAIRED_TS_MEDIAN (tierstorage's median wall s) for the caller's goal check.
#
#   Wall times carry ~15 ms of GNU time and bash start on both sides: time commands shorter than ~0.2 s with
#   hyperfine instead (installed by `need hyperfine`), as the start-up and hook benches do.
#
#   bench_table_header   prints the table's header
#   bench_load           prints "load average a b c"
#   need CMD [APT_PACKAGE]  installs a missing command with apt-get (as root), or stops with what to install
#   ts_exe DIR           the timed command that runs the CLI in DIR, quoted for a command line: DIR/tierstorage, the native
#                        build (src/TierStorage.Cli.Native published over the managed one, as the README installs it), when
#                        the bench was given --native (BENCH_NATIVE=1), else dotnet DIR/tierstorage.dll
set -euo pipefail

ts_exe() {
  if [ "${BENCH_NATIVE:-0}" = 1 ]; then
    [ -x "$1/tierstorage" ] && [ "$(head -c 4 "$1/tierstorage" | od -An -c | tr -d ' ')" = '177ELF' ] && [ "$(stat -c %s "$1/tierstorage")" -gt 10000000 ] \
      || { echo "--native: $1/tierstorage is not the native build (dotnet publish src/TierStorage.Cli.Native -c Release -o $1)" >&2; exit 2; }
    printf "'%s'" "$1/tierstorage"
  else
    printf "dotnet '%s'" "$1/tierstorage.dll"
  fi
}

BENCH_LOG=${BENCH_LOG:-$(mktemp "${TMPDIR:-/tmp}/bench-log.XXXXXX")}

need() {
  local cmd=$1 pkg=${2:-$1}
  command -v "$cmd" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing $pkg with apt-get" >&2
    apt-get install -y "$pkg" >>"$BENCH_LOG" 2>&1 || { apt-get update >>"$BENCH_LOG" 2>&1 && apt-get install -y "$pkg" >>"$BENCH_LOG" 2>&1; }
  fi
  command -v "$cmd" >/dev/null || { echo "needs $cmd (apt-get install $pkg)" >&2; exit 2; }
}
need /usr/bin/time time

bench_load() { cut -d' ' -f1-3 /proc/loadavg | sed 's/^/load average /'; }

bench_table_header() {
  echo "| work | tierstorage wall s, median (min-max) | RSS MB | CPU s | peer | peer wall s, median (min-max) | RSS MB | CPU s | ratio (wall) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
}

# _timed OUT CMD: runs CMD under GNU time, appending "wall_s rss_kb cpu_s" to OUT. The wall time is bash's
# EPOCHREALTIME around the run (microseconds; GNU time's own %e has 10 ms steps), so it includes GNU time's fork.
_timed() {
  local out=$1 cmd=$2 tf t0 t1
  tf=$(mktemp)
  t0=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$tf" bash -c "$cmd" >>"$BENCH_LOG" 2>&1; then
    echo "failed: $cmd (log: $BENCH_LOG)" >&2; tail -n 20 "$BENCH_LOG" >&2; rm -f "$tf"; exit 1
  fi
  t1=$EPOCHREALTIME
  tail -n 1 "$tf" | awk -v a="$t0" -v b="$t1" '{ printf "%.4f %s %.2f\n", b - a, $1, $2 + $3 }' >>"$out"
  rm -f "$tf"
}

# _median FILE COLUMN: the median of one column
_median() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# _summary FILE: "median_wall min max median_rss_mb median_cpu"
_summary() {
  local w r c
  w=$(_median "$1" 1); r=$(_median "$1" 2); c=$(_median "$1" 3)
  printf '%.3f %.3f %.3f %.0f %.2f\n' "$w" "$(cut -d' ' -f1 "$1" | sort -g | head -n 1)" \
    "$(cut -d' ' -f1 "$1" | sort -g | tail -n 1)" "$(awk -v k="$r" 'BEGIN { print k / 1024 }')" "$c"
}

paired() {
  local label=$1 runs=$2 prep=$3 ts_cmd=$4 peer_name=$5 peer_cmd=$6 i
  local ts_out peer_out
  ts_out=$(mktemp); peer_out=$(mktemp)
  echo "== $label: warm-up pair, then $runs alternating pairs ($(bench_load))" >&2
  bash -c "$prep"; _timed /dev/null "$ts_cmd"
  bash -c "$prep"; _timed /dev/null "$peer_cmd"
  for ((i = 1; i <= runs; i++)); do
    if ((i % 2)); then
      bash -c "$prep"; _timed "$ts_out" "$ts_cmd"
      bash -c "$prep"; _timed "$peer_out" "$peer_cmd"
    else
      bash -c "$prep"; _timed "$peer_out" "$peer_cmd"
      bash -c "$prep"; _timed "$ts_out" "$ts_cmd"
    fi
  done
  read -r tw tmin tmax trss tcpu <<<"$(_summary "$ts_out")"
  read -r pw pmin pmax prss pcpu <<<"$(_summary "$peer_out")"
  PAIRED_RATIO=$(awk -v a="$tw" -v b="$pw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  PAIRED_TS_MEDIAN=$tw
  echo "| $label | $tw ($tmin-$tmax) | $trss | $tcpu | $peer_name | $pw ($pmin-$pmax) | $prss | $pcpu | **${PAIRED_RATIO}x** |"
  rm -f "$ts_out" "$peer_out"
}

# goal LABEL RATIO LIMIT: prints whether RATIO <= LIMIT (for the bench's summary lines); never fails the bench.
goal() {
  if awk -v r="$2" -v l="$3" 'BEGIN { exit !(r <= l) }'; then echo "goal met: $1 ${2}x <= ${3}x" >&2
  else echo "goal NOT met: $1 ${2}x > ${3}x" >&2; fi
}
