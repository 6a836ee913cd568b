#!/usr/bin/env bash
# Issue 12, start-up: what every `tierstorage` command and `Import-Module TierStorage` cost before any work, against
# what the host allows: a bare .NET console app that returns, launched the same way as the CLI (`dotnet app.dll`,
# framework-dependent, same target framework), a NativeAOT build of it for scale, and a bare `pwsh -NoProfile`.
#
# Usage (from anywhere):
#   bench/whole/startup.sh [--cli DIR] [--before DIR] [--native] [--module DIR] [--rounds N] [--runs N] [--no-module] [--no-aot]
#     --cli DIR     an already built CLI (a folder holding tierstorage.dll); default: build this checkout's
#                   (`dotnet build src/TierStorage.Cli -c Release -o <temp>`, as the README installs it)
#     --before DIR  also time another build (e.g. main's) in the same rounds, for a before/after table
#     --native      also time the native command beside each build's tierstorage.dll (DIR/tierstorage, published there
#                   by `dotnet publish src/TierStorage.Cli.Native -c Release -o DIR`; with the default --cli, published
#                   here), and check its `--version` against the goal "<= 30 ms where native" (issue 12)
#     --module DIR  an assembled module folder (holding TierStorage.psd1); default: assemble this checkout's
#     --rounds N    rounds (default 5); each round runs every command --runs times after 2 warm-ups, with hyperfine,
#                   the commands' order reversed every other round so that load weighs on all alike
#     --runs N      runs per command per round (default 6)
#     --no-module   leave out Import-Module; --no-aot: leave out the NativeAOT floor
# Needs the .NET SDK; installs hyperfine and jq with apt-get when missing (as root). The workspace is an empty one
# (`tierstorage init`, then one `run`), so `session list` lists nothing and `run` finds nothing to do.
# Prints a markdown table on stdout (progress on stderr) and whether each goal is met.
set -euo pipefail

cli_dir="" before_dir="" module_dir="" rounds=5 runs=6 with_module=true with_aot=true with_native=false
while (($#)); do
  case "$1" in
    --cli) cli_dir=$(cd "$2" && pwd); shift 2 ;;
    --before) before_dir=$(cd "$2" && pwd); shift 2 ;;
    --native) with_native=true; shift ;;
    --module) module_dir=$(cd "$2" && pwd); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-module) with_module=false; shift ;;
    --no-aot) with_aot=false; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
need hyperfine
need jq
work=$(mktemp -d "${TMPDIR:-/tmp}/startup-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { printf '== %s\n' "$*" >&2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1

# --- what is timed -----------------------------------------------------------------------------------------------------
if [ -z "$cli_dir" ]; then
  say "building the CLI (Release) into $work/cli"
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$work/cli" -nologo -v q >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
  cli_dir="$work/cli"
  if $with_native; then
    say "publishing the native command (Release) into $work/cli"
    dotnet publish "$repo/src/TierStorage.Cli.Native" -c Release -o "$work/cli" -nologo -v q >>"$work/build.log" 2>&1 \
      || { cat "$work/build.log" >&2; exit 1; }
  fi
fi
if $with_native; then
  for dir in "$cli_dir" ${before_dir:+"$before_dir"}; do
    [ -x "$dir/tierstorage" ] || { echo "--native: no native $dir/tierstorage (dotnet publish src/TierStorage.Cli.Native -c Release -o $dir)" >&2; exit 2; }
  done
fi
tfm=$(jq -r '.runtimeOptions.tfm' "$cli_dir/tierstorage.runtimeconfig.json")

say "building the floor: a $tfm console app that returns (framework-dependent, dotnet app.dll)"
mkdir -p "$work/floor"
cat >"$work/floor/floor.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>$tfm</TargetFramework>
    <RollForward>Major</RollForward>
    <ImplicitUsings>disable</ImplicitUsings>
    <InvariantGlobalization>false</InvariantGlobalization>
  </PropertyGroup>
</Project>
EOF
echo 'return 0;' >"$work/floor/Program.cs"
# Its own folder: the repository's Directory.Build.props must not apply.
dotnet build "$work/floor" -c Release -o "$work/floor/out" -nologo -v q >"$work/floor.log" 2>&1 || { cat "$work/floor.log" >&2; exit 1; }
aot=""
if $with_aot; then
  say "building the NativeAOT floor (the same app, PublishAot)"
  rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
  for linker in "" "-p:CppCompilerAndLinker=gcc"; do
    # shellcheck disable=SC2086
    if dotnet publish "$work/floor" -c Release -r "$rid" -p:PublishAot=true $linker -o "$work/floor-aot" -nologo -v q >"$work/aot.log" 2>&1; then
      aot="$work/floor-aot/floor"; break
    fi
  done
  [ -n "$aot" ] || echo "NativeAOT floor not built (needs clang or gcc and the ILCompiler package); left out: $(tail -n 3 "$work/aot.log")" >&2
fi

export TIERSTORAGE_DATA="$work/data"
ws="$work/ws"
dotnet "$cli_dir/tierstorage.dll" init --workspace "$ws" >/dev/null
dotnet "$cli_dir/tierstorage.dll" run --workspace "$ws" >/dev/null

pwsh_dll="" floor_ps=""
if $with_module; then
  if [ -z "$module_dir" ]; then
    say "assembling the module into $work/module/TierStorage"
    dotnet build "$repo/src/TierStorage.PowerShell" -c Release -nologo -v q >"$work/module.log" 2>&1 || { cat "$work/module.log" >&2; exit 1; }
    dotnet msbuild "$repo/build/TierStorage.Module.proj" -p:Configuration=Release "-p:ModuleDir=$work/module/TierStorage/" -nologo -v:q \
      >>"$work/module.log" 2>&1 || { cat "$work/module.log" >&2; exit 1; }
    module_dir="$work/module/TierStorage"
  fi
  # The pinned PowerShell (.config/dotnet-tools.json), launched as `dotnet pwsh.dll` on both sides (no tool look-up).
  (cd "$repo" && dotnet tool restore >/dev/null)
  pshome=$(cd "$repo" && dotnet pwsh -NoProfile -NonInteractive -c '$PSHOME')
  pwsh_dll="$pshome/pwsh.dll"
fi

# --- the rounds ------------------------------------------------------------------------------------------------------
names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "floor: dotnet app.dll (returns)" "dotnet $work/floor/out/floor.dll"
[ -n "$aot" ] && add "floor: NativeAOT app (returns)" "$aot"
for side in after before; do
  dir=$cli_dir; tag=""
  if [ "$side" = before ]; then [ -n "$before_dir" ] || continue; dir=$before_dir; tag=" (before)"; fi
  add "tierstorage --version$tag" "dotnet $dir/tierstorage.dll --version"
  add "tierstorage --help$tag" "dotnet $dir/tierstorage.dll --help"
  add "tierstorage session list (empty workspace)$tag" "dotnet $dir/tierstorage.dll --workspace $ws session list"
  add "tierstorage run (nothing to do)$tag" "dotnet $dir/tierstorage.dll --workspace $ws run"
  if $with_native; then
    add "native tierstorage --version$tag" "$dir/tierstorage --version"
    add "native tierstorage --help$tag" "$dir/tierstorage --help"
    add "native tierstorage session list (empty workspace)$tag" "$dir/tierstorage --workspace $ws session list"
    add "native tierstorage run (nothing to do)$tag" "$dir/tierstorage --workspace $ws run"
  fi
done
if [ -n "$pwsh_dll" ]; then
  add "floor: pwsh -NoProfile -c exit" "dotnet $pwsh_dll -NoProfile -NonInteractive -c exit"
  add "pwsh -NoProfile -c Import-Module TierStorage" "dotnet $pwsh_dll -NoProfile -NonInteractive -c Import-Module$(printf ' %s' "$module_dir/TierStorage.psd1")"
fi

# Each command once, untimed: a failing one stops the bench here, with its name and output.
for i in "${!cmds[@]}"; do
  if ! bash -c "${cmds[i]}" >"$work/check.log" 2>&1; then
    echo "failed: ${names[i]}: ${cmds[i]}" >&2; tail -n 20 "$work/check.log" >&2; exit 1
  fi
done
say "${#cmds[@]} commands, $rounds rounds of $runs runs each ($(bench_load))"
load_before=$(bench_load)
for ((r = 1; r <= rounds; r++)); do
  order=()
  for i in "${!cmds[@]}"; do order+=("$i"); done
  if ((r % 2 == 0)); then
    rev=(); for ((j = ${#order[@]} - 1; j >= 0; j--)); do rev+=("${order[j]}"); done; order=("${rev[@]}")
  fi
  args=()
  for i in "${order[@]}"; do args+=(-n "$i" "${cmds[i]}"); done
  hyperfine -N --warmup 2 --runs "$runs" --style none --export-json "$work/round$r.json" "${args[@]}" >>"$BENCH_LOG" 2>&1 \
    || { echo "hyperfine failed (log: $BENCH_LOG)" >&2; tail -n 20 "$BENCH_LOG" >&2; exit 1; }
  say "round $r/$rounds done ($(bench_load))"
done
load_after=$(bench_load)

# Per command: every run's wall time (median, min, max) and the per-round mean CPU (user + sys; median of the rounds).
stat() {
  local i=$1
  jq -r --arg n "$i" '.results[] | select(.command == $n) | .times[]' "$work"/round*.json | sort -g >"$work/t"
  jq -r --arg n "$i" '.results[] | select(.command == $n) | (.user + .system)' "$work"/round*.json | sort -g >"$work/c"
  awk '{ v[NR] = $1 } END { printf "%.1f %.1f %.1f ", v[int((NR + 1) / 2)] * 1000, v[1] * 1000, v[NR] * 1000 }' "$work/t"
  awk '{ v[NR] = $1 } END { printf "%.1f\n", v[int((NR + 1) / 2)] * 1000 }' "$work/c"
}
wall=() cpu=() range=()
for i in "${!cmds[@]}"; do
  read -r w lo hi c <<<"$(stat "$i")"
  wall[i]=$w; cpu[i]=$c; range[i]="$lo-$hi"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; $load_before at the start, $load_after at the end;" \
  "$rounds rounds x $runs runs per command (hyperfine -N, 2 warm-ups per round)"
echo
echo "| command | wall ms, median (min-max) | CPU ms (user+sys) | vs | ratio (wall) | ratio (CPU) |"
echo "| --- | --- | --- | --- | --- | --- |"
floor=0 ps_floor=""
for i in "${!cmds[@]}"; do
  case "${names[i]}" in
    "floor: pwsh"*) ps_floor=$i ;;
  esac
done
for i in "${!cmds[@]}"; do
  name=${names[i]} base=$floor vs="dotnet app.dll"
  case "$name" in
    "floor: dotnet"*) vs="" ;;
    "floor: NativeAOT"*) vs="dotnet app.dll" ;;
    "floor: pwsh"*) vs="" ;;
    pwsh*) base=$ps_floor vs="pwsh -c exit" ;;
    native*) [ -n "$aot" ] && base=1 vs="NativeAOT app" ;;
  esac
  if [ -z "$vs" ]; then
    echo "| $name | ${wall[i]} (${range[i]}) | ${cpu[i]} | | | |"
  else
    echo "| $name | ${wall[i]} (${range[i]}) | ${cpu[i]} | $vs | **$(ratio "${wall[i]}" "${wall[$base]}")x** | $(ratio "${cpu[i]}" "${cpu[$base]}")x |"
  fi
done
echo

# --- goals (issue 12) --------------------------------------------------------------------------------------------------
for i in "${!cmds[@]}"; do
  case "${names[i]}" in
    "tierstorage --version")
      goal "tierstorage --version vs dotnet app.dll (wall)" "$(ratio "${wall[i]}" "${wall[0]}")" 1.2
      ;;
  esac
done
native_version=""
for i in "${!cmds[@]}"; do
  [ "${names[i]}" = "native tierstorage --version" ] && native_version=${wall[i]}
done
if [ -n "$native_version" ]; then
  if awk -v w="$native_version" 'BEGIN { exit !(w <= 30) }'; then echo "goal met: native tierstorage --version ${native_version} ms <= 30 ms" >&2
  else echo "goal NOT met: native tierstorage --version ${native_version} ms > 30 ms" >&2; fi
elif [ -n "$aot" ]; then
  echo "goal '<= 30 ms where native': not checked (no --native); the NativeAOT floor shows what native start costs here" >&2
fi
