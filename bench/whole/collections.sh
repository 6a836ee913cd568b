#!/usr/bin/env bash
# Whole-process bench (issue 13): a collection of FILES files (~SIZE_MB in all) kept as versions on a folder tier by
# `tierstorage collection backup`, beside `restic backup` of the same tree to a local repository: the first version,
# then versions of the unchanged tree (goal: under 5 s, i.e. scan and hash only what changed by size and time, as
# restic's parent snapshot does), then after one file in a hundred was changed.
#
#   bash bench/whole/collections.sh [--cli DIR] [--files 50000] [--size-mb 1024] [--runs 3] [--work DIR]
#
# Input (seeded): FILES files in 2,500 folders of 20, sizes drawn around SIZE_MB/FILES, half text (compressible), half
# random bytes. The tree, tierstorage's tier and restic's repository live under --work (default a temp dir, removed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need restic
need python3
repo=$(cd "$(dirname "$0")/../.." && pwd)
cli="" files=50000 size_mb=1024 runs=3 work=""
while [ $# -gt 0 ]; do
  case $1 in
    --cli) cli=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then work=$(mktemp -d "${TMPDIR:-/tmp}/ts-bench-collections-XXXXXX"); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"; work=$(cd "$work" && pwd)
if [ -z "$cli" ]; then
  dotnet build "$repo/src/TierStorage.Cli" -c Release -o "$work/cli" -nologo -v q >>"$BENCH_LOG" 2>&1
  cli=$work/cli
fi
cli=$(cd "$cli" && pwd)
rm -rf "$work/ws" "$work/tier" "$work/restic"
if [ ! -d "$work/tree" ]; then
  echo "generating $files files, ~$size_mb MB" >&2
  python3 - "$work/tree" "$files" "$size_mb" <<'PY'
import os, random, sys
root, files, size_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(13)
mean = size_mb * 1024 * 1024 // files
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(4000)]
for i in range(files):
    folder = os.path.join(root, f"d{i // 20:04d}")
    os.makedirs(folder, exist_ok=True)
    size = max(0, int(rng.expovariate(1 / mean)))
    if i % 2:
        data = rng.randbytes(size)
    else:
        out, n = [], 0
        while n < size:
            w = rng.choice(words); out.append(w); n += len(w) + 1
        data = b" ".join(out)[:size]
    with open(os.path.join(folder, f"f{i:06d}.{'bin' if i % 2 else 'txt'}"), "wb") as f:
        f.write(data)
PY
fi
echo "input: $(find "$work/tree" -type f | wc -l) files, $(du -sb "$work/tree" | cut -f1) B" >&2
mkdir -p "$work/tier"
cat >"$work/policy.yaml" <<POLICY
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: backup
    level: 2
    kind: folder
    path: $work/tier
collections:
  - name: tree
    path: $work/tree
POLICY
ts="dotnet '$cli/tierstorage.dll'"
bash -c "$ts init --path '$work/ws' --policy-template '$work/policy.yaml'" >>"$BENCH_LOG"
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$work/restic"
restic init >>"$BENCH_LOG" 2>&1
ts_cmd="$ts collection backup tree --workspace '$work/ws'"
peer_cmd="restic backup --quiet '$work/tree'"

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(bench_load), $(nproc) cores"
bench_table_header
# The first version of each, once (no warm-up: the first run is what is measured).
first_ts=$( { /usr/bin/time -f '%e %M %U %S' bash -c "$ts_cmd" >>"$BENCH_LOG"; } 2>&1 | tail -1)
first_peer=$( { /usr/bin/time -f '%e %M %U %S' bash -c "$peer_cmd >>'$BENCH_LOG' 2>&1"; } 2>&1 | tail -1)
read -r tw tm tu tsy <<<"$first_ts"; read -r pw pm pu psy <<<"$first_peer"
awk -v tw="$tw" -v tm="$tm" -v tu="$tu" -v ts="$tsy" -v pw="$pw" -v pm="$pm" -v pu="$pu" -v ps="$psy" \
  'BEGIN { printf "| first version | %.3f | %d | %.2f | restic backup (first snapshot) | %.3f | %d | %.2f | **%.2fx** |\n", tw, tm / 1024, tu + ts, pw, pm / 1024, pu + ps, tw / pw }'
echo "stored: tierstorage $(du -sb "$work/tier" | cut -f1) B, restic $(du -sb "$work/restic" | cut -f1) B" >&2
paired "unchanged tree, next version" "$runs" ":" "$ts_cmd" "restic backup (parent snapshot)" "$peer_cmd"
unchanged=$PAIRED_RATIO
unchanged_s=$PAIRED_TS_MEDIAN
# Before every run of this row: one file in a hundred (the first of every fifth folder) gets a few bytes more.
cat >"$work/change.py" <<'PY'
import os, sys
for i, (d, _, names) in enumerate(sorted(os.walk(sys.argv[1]))):
    for n in sorted(names)[:1] if i % 5 == 0 else []:
        with open(os.path.join(d, n), "ab") as f: f.write(b" changed")
PY
paired "one file in a hundred changed, next version" "$runs" "python3 '$work/change.py' '$work/tree'" "$ts_cmd" "restic backup (parent snapshot)" "$peer_cmd"
grep -o 'tree@[^ ]*.*sent in [0-9.]*s' "$BENCH_LOG" | tail -3 >&2 || true
if awk -v s="$unchanged_s" 'BEGIN { exit !(s < 5) }'; then echo "goal met: an unchanged version in ${unchanged_s} s < 5 s"
else echo "goal NOT met: an unchanged version in ${unchanged_s} s >= 5 s"; fi
echo "(an unchanged version: ${unchanged}x restic's time)"
