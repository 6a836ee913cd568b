#!/usr/bin/env bash
# Whole-process bench of the Claude Code hook (issue 12): one PostToolUse call as Claude Code makes it (a process, the
# payload on stdin, a session active, the redaction cache warm), three ways, with hyperfine:
#   native   tierstorage-hook --workspace W            (src/TierStorage.Hook, NativeAOT; what examples/claude-settings.json runs)
#   floor    a NativeAOT process that reads stdin to its end and exits (built here): the least any hook process costs
#   managed  dotnet tierstorage.dll hook --workspace W (the managed fast path, for scale)
# Rounds of hyperfine (--warmup, then --runs per command), the order of the three commands rotating every round so that
# the machine's load weighs on each alike; the medians are over every round's runs. Prints the table, CPU seconds and
# the load, and whether the goal (native <= 3x floor and <= 20 ms) is met.
#
#   bash bench/whole/hook.sh [--cli DIR] [--rounds N] [--runs N]
#     --cli DIR   a CLI built with `dotnet build src/TierStorage.Cli -c Release -o DIR`; default: built into a temp dir.
#                 The native hook is always published here from the worktree's sources into DIR (beside the CLI, as installed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
need hyperfine
need python3

cli="" rounds=6 runs=15
while [ $# -gt 0 ]; do
  case $1 in
    --cli) cli=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--cli DIR] [--rounds N] [--runs N]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-hook.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -z "$cli" ]; then
  cli=$work/cli
  echo "building the CLI into $cli" >&2
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$cli" -nologo -v q >>"$BENCH_LOG" 2>&1
fi
cli=$(cd "$cli" && pwd)
echo "publishing the native hook into $cli" >&2
t0=$EPOCHREALTIME
dotnet publish "$repo/src/TierStorage.Hook" -c Release -o "$cli" -nologo -v q >>"$BENCH_LOG" 2>&1
echo "  (publish took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s)" >&2

# The floor: the same toolchain and settings as the hook, doing nothing but read its input.
mkdir -p "$work/floor"
cat >"$work/floor/floor.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <PublishAot>true</PublishAot>
    <InvariantGlobalization>true</InvariantGlobalization>
    <RuntimeIdentifier>$(NETCoreSdkPortableRuntimeIdentifier)</RuntimeIdentifier>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
</Project>
EOF
cat >"$work/floor/Program.cs" <<'EOF'
using var stdin = Console.OpenStandardInput();
stdin.CopyTo(Stream.Null);
return 0;
EOF
echo "publishing the NativeAOT floor" >&2
dotnet publish "$work/floor/floor.csproj" -c Release -o "$work/floor/out" -nologo -v q >>"$BENCH_LOG" 2>&1

# A workspace with the default policy, a session started by a hook, the redaction cache written by the managed fast path.
ws=$work/ws
dotnet "$cli/tierstorage.dll" init --path "$ws" >>"$BENCH_LOG"
echo '{"session_id":"bench","hook_event_name":"SessionStart","source":"startup"}' | dotnet "$cli/tierstorage.dll" hook --workspace "$ws"
echo '{"session_id":"bench","hook_event_name":"Stop"}' | dotnet "$cli/tierstorage.dll" hook --workspace "$ws"
[ -f "$ws/analytics/redaction_cache.json" ] || { echo "no redaction cache was written" >&2; exit 1; }
# Deterministic payload: a Bash call as Claude Code sends it, with a secret for the redaction to find.
payload=$work/post.json
printf '%s' '{"session_id":"3f2a9c1e-bench","transcript_path":"/home/u/.claude/projects/p/3f2a9c1e.jsonl","cwd":"/home/u/p","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_01BenchBenchBenchBench","tool_input":{"command":"curl -s -H \"Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\" https://example.com/api | jq .items","description":"Fetch the items"},"tool_response":{"stdout":"[1,2,3]","stderr":"","interrupted":false,"isImage":false}}' >"$payload"

lines_before=$(wc -l <"$ws/logs/session_current.jsonl")
"$cli/tierstorage-hook" --workspace "$ws" <"$payload"
[ "$(wc -l <"$ws/logs/session_current.jsonl")" -eq $((lines_before + 1)) ] || { echo "the native hook appended no line" >&2; exit 1; }
tail -n 1 "$ws/logs/session_current.jsonl" | grep -q 'REDACTED' || { echo "the native hook's line is not redacted" >&2; exit 1; }
# Every native call below must be served natively: without a managed command to hand off to, a hand-off fails the run.
export TIERSTORAGE_CLI=$work/no-managed-command.dll

native="$cli/tierstorage-hook --workspace $ws < $payload"
floor="$work/floor/out/floor < $payload"
managed="dotnet $cli/tierstorage.dll hook --workspace $ws < $payload"
echo "== $rounds rounds x $runs runs per command, order rotating ($(bench_load))" >&2
load_start=$(bench_load)
for ((r = 0; r < rounds; r++)); do
  case $((r % 3)) in
    0) order=("$native" "$floor" "$managed") ;;
    1) order=("$floor" "$managed" "$native") ;;
    2) order=("$managed" "$native" "$floor") ;;
  esac
  hyperfine --shell=bash --warmup 3 --runs "$runs" --export-json "$work/round$r.json" --style none "${order[@]}" >>"$BENCH_LOG" 2>&1
done
load_end=$(bench_load)
tool_lines=$(grep -c '"tool_call"' "$ws/logs/session_current.jsonl")

python3 - "$work" "$rounds" "$native" "$floor" "$managed" <<'EOF'
import json, statistics, sys
work, rounds, native, floor, managed = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
times, cpu = {native: [], floor: [], managed: []}, {native: [], floor: [], managed: []}
for r in range(rounds):
    for result in json.load(open(f"{work}/round{r}.json"))["results"]:
        times[result["command"]] += result["times"]
        cpu[result["command"]].append(result["user"] + result["system"])
def row(name, command):
    t = sorted(times[command]); n = len(t)
    p50, p90 = statistics.median(t) * 1000, t[min(n - 1, int(n * 0.9))] * 1000
    return p50, f"| {name} | {p50:.1f} | {p90:.1f} | {t[0]*1000:.1f} | {statistics.mean(cpu[command])*1000:.1f} | {n} |"
print("| hook process (PostToolUse, session active) | wall ms, median | p90 | min | CPU ms (user+sys, mean) | runs |")
print("| --- | --- | --- | --- | --- | --- |")
n50, native_row = row("native: tierstorage-hook", native)
f50, floor_row = row("floor: NativeAOT process reading stdin", floor)
m50, managed_row = row("managed: dotnet tierstorage.dll hook", managed)
print(native_row); print(floor_row); print(managed_row)
ratio = n50 / f50
print()
print(f"native / floor: {ratio:.2f}x (goal <= 3x); native median {n50:.1f} ms (goal <= 20 ms); managed / native: {m50 / n50:.1f}x")
print("goal met" if ratio <= 3 and n50 <= 20 else "goal NOT met")
EOF
echo "load: $load_start at the start, $load_end at the end; hyperfine's wall times have its shell's start subtracted"
# Each native and managed run appended one event (warm-ups included): none was lost.
echo "tool_call lines in the log: $tool_lines (expected $((1 + rounds * (runs + 3) * 2)))"
