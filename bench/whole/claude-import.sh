#!/usr/bin/env bash
# Issue 12, whole processes: what a user runs to see the token and cost figures of their Claude Code transcripts with
# TierStorage (`tierstorage import claude --all-projects` then `tierstorage review` of the phase, from a fresh workspace)
# beside the peer they would pick instead (`ccusage daily --json --offline`, 17.x) over the same CLAUDE_CONFIG_DIR.
# Goals: TierStorage <= 0.5x ccusage's wall time at equal totals, <= 200 MB max RSS.
#
# Usage (from anywhere): bench/whole/claude-import.sh [--runs N] [--messages N] [--cli DIR [--native]] [--import-only-row] [--keep]
#   --runs N      timed pairs per row (default 3, after one warm-up pair)
#   --messages N  transcript lines (user and assistant messages) to generate (default 100000, in 20 transcripts)
#   --cli DIR     use a built CLI (a folder holding tierstorage.dll) instead of building one (Release) into the temp folder
#   --native      time the native build in DIR (tierstorage, published there by src/TierStorage.Cli.Native) instead
#   --import-only-row  also time the import alone beside ccusage (a second row)
#   --keep        keep the temp folder (its path is printed)
# The input comes from claude-import-gen.py (seeded: every run reads the same 20 transcripts, 5 of them subagent files
# under <session>/subagents/, responses written one line per content block as Claude Code writes them, bad lines).
# Before timing, the totals are checked: the four token totals of the review equal ccusage's, and its cost exceeds
# ccusage's by exactly what the README says (1-hour cache writes at their own rate); the bench stops if not.
# ccusage: $CCUSAGE if set, else /tmp/ccu/node_modules/.bin/ccusage (the parity work's install), else npm installs
# ccusage@17 into ~/.cache/tierstorage-bench/ccusage17.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

runs=3 messages=100000 cli_dir="" keep=false import_row=false
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --cli) cli_dir=$(cd "$2" && pwd); shift 2 ;;
    --native) BENCH_NATIVE=1; shift ;;
    --keep) keep=true; shift ;;
    --import-only-row) import_row=true; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/claude-import-bench.XXXXXX")
if $keep; then echo "keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
need python3
need node nodejs

ccusage=${CCUSAGE:-}
if [[ -z "$ccusage" && -x /tmp/ccu/node_modules/.bin/ccusage ]]; then ccusage=/tmp/ccu/node_modules/.bin/ccusage; fi
if [[ -z "$ccusage" ]]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/tierstorage-bench/ccusage17"
  if [[ ! -x "$cache/node_modules/.bin/ccusage" ]]; then
    echo "installing ccusage@17 with npm into $cache" >&2
    mkdir -p "$cache" && (cd "$cache" && npm install --no-audit --no-fund --loglevel=error ccusage@17 >&2)
  fi
  ccusage="$cache/node_modules/.bin/ccusage"
fi
ccusage_version=$("$ccusage" --version 2>/dev/null | tail -n 1)

if [[ -z "$cli_dir" ]]; then
  echo "building the CLI (Release)" >&2
  cli_dir="$work/cli"
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$cli_dir" -nologo -v quiet >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
fi

echo "generating $messages transcript lines" >&2
python3 "$here/claude-import-gen.py" "$work/cfg" --messages "$messages" >"$work/expected.json"
input_mb=$(du -sm "$work/cfg" | cut -f1)

ts=$(ts_exe "$cli_dir")
# A fresh workspace for every run (untimed), its backup tier inside the temp folder.
prep="rm -rf '$work/ws' '$work/data' && TIERSTORAGE_DATA='$work/data' $ts init --workspace '$work/ws' >/dev/null"
import="TIERSTORAGE_DATA='$work/data' $ts import claude --all-projects --config-dir '$work/cfg' --phase 1 --complete --workspace '$work/ws' >/dev/null"
review="TIERSTORAGE_DATA='$work/data' $ts --json review 1 --workspace '$work/ws'"
peer="CLAUDE_CONFIG_DIR='$work/cfg' '$ccusage' daily --json --offline"

# --- equal totals ----------------------------------------------------------------------------------------------------
echo "checking the totals against ccusage $ccusage_version" >&2
bash -c "$prep"
bash -c "$import" 2>"$work/import.err"
bash -c "$review" >"$work/review.json" 2>>"$work/import.err"
bash -c "$peer" >"$work/ccusage.json"
python3 - "$work/review.json" "$work/ccusage.json" "$work/expected.json" "$repo/src/TierStorage.Engine/Policy/ModelPrices.json" <<'EOF'
import json, sys
review, cc, expected, prices = (json.load(open(p)) for p in sys.argv[1:5])
t, c = review["total"], cc["totals"]
ours = (t["inputTokens"], t["outputTokens"], t["cacheWriteTokens"], t["cacheReadTokens"])
theirs = (c["inputTokens"], c["outputTokens"], c["cacheCreationTokens"], c["cacheReadTokens"])
def price(model):
    keys = [k for k in prices["models"] if model.startswith(k)]
    return prices["models"][max(keys, key=len)]
# The README: ccusage bills 1-hour cache writes at the 5-minute rate, TierStorage at the 1-hour rate.
surcharge = sum(m["cache_write_1h"] * (price(name)["cache_write_1h"] - price(name)["cache_write_5m"]) / 1e6
                for name, m in expected["by_model"].items())
cost_ok = abs(t["costUsd"] - (c["totalCost"] + surcharge)) <= 1e-6 * max(1.0, c["totalCost"])
print(f"tokens (input, output, cache write, cache read): tierstorage {ours}, ccusage {theirs}: {'equal' if ours == theirs else 'DIFFERENT'}", file=sys.stderr)
print(f"cost: tierstorage ${t['costUsd']:.6f} = ccusage ${c['totalCost']:.6f} + 1-hour cache writes at their own rate ${surcharge:.6f}: "
      f"{'yes' if cost_ok else 'NO'}", file=sys.stderr)
sys.exit(0 if ours == theirs and cost_ok and t["calls"] == expected["calls"] else 1)
EOF

# --- timed pairs -----------------------------------------------------------------------------------------------------
echo >&2
echo "claude import: $messages lines, 20 transcripts, $input_mb MB; ccusage $ccusage_version; $(nproc) cores; $(bench_load)"
bench_table_header
# Not in $(...): paired sets PAIRED_RATIO for the goal check.
paired "import claude --all-projects --complete + review --json, fresh workspace" "$runs" "$prep" "$import && $review >/dev/null" "ccusage daily --json --offline" "$peer" >"$work/row1"
row=$(cat "$work/row1"); echo "$row"
ratio=$PAIRED_RATIO rss=$(echo "$row" | cut -d'|' -f4 | tr -d ' ')
$import_row && paired "import claude --all-projects --complete only" "$runs" "$prep" "$import" "ccusage daily --json --offline" "$peer"
echo "load after: $(bench_load)"
goal "import + review wall vs ccusage" "$ratio" 0.5
if ((rss <= 200)); then echo "goal met: max RSS ${rss} MB <= 200 MB" >&2; else echo "goal NOT met: max RSS ${rss} MB > 200 MB" >&2; fi
