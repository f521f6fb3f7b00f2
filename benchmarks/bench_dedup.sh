#!/usr/bin/env bash
# fasta-rc-dedup vs `seqkit rmdup -s -i -j 2` on the study-scale synthetic set (2.34 M x 1 kb),
# then dataset-split on the deduplicated, labelled set. Same machine, same run.
#
#   bash benchmarks/bench_dedup.sh [results.md]
# Knobs: REPS=3, SCALE=full, BENCH_DATA=/tmp/bench-data, PY=.venv/bin/python, JOBS=2.
# Data is made by ../shared/bench/make_data.py into $BENCH_DATA/$SCALE (never into the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}; SCALE=${SCALE:-full}; BENCH_DATA=${BENCH_DATA:-/tmp/bench-data}; JOBS=${JOBS:-2}
PY=${PY:-.venv/bin/python}; BIN=$(dirname "$PY")
OUT_MD=${1:-/dev/stdout}
DATA=$BENCH_DATA/$SCALE; SEQS=$DATA/seqs.fa; WORK=$DATA/dedup-bench; mkdir -p "$WORK"
[ -s "$SEQS" ] || "$PY" ../shared/bench/make_data.py --scale "$SCALE" --out-dir "$DATA" --skip peaks
TRUTH=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['unique_canonical'])" "$DATA/seqs.truth.json")
N=$(grep -c '^>' "$SEQS")
cat "$SEQS" > /dev/null  # page-cache the input like the anchor harness

timed() {  # name, output fasta, command...  -> appends "name wall rss records cpu" to $WORK/rows.tsv
  local name=$1 out=$2; shift 2
  /usr/bin/time -v -o "$WORK/time.txt" "$@" > "$WORK/log.txt" 2>&1
  local wall rss recs cpu
  wall=$(awk -F': ' '/Elapsed/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$WORK/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$WORK/time.txt")
  rss=$(awk -F': ' '/Maximum resident/ {print int($2/1024)}' "$WORK/time.txt")
  recs=$( [ -n "$out" ] && grep -c '^>' "$out" || echo "-")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$wall" "$rss" "$recs" "$cpu" >> "$WORK/rows.tsv"
}

: > "$WORK/rows.tsv"
for r in $(seq "$REPS"); do
  timed "seqkit rmdup -s -i -j 2" "$WORK/seqkit.fa" seqkit rmdup -s -i -j 2 -w 0 "$SEQS" -o "$WORK/seqkit.fa"
  timed "fasta-rc-dedup -j $JOBS" "$WORK/ours.fa" "$BIN/fasta-rc-dedup" "$SEQS" -o "$WORK/ours.fa" -j "$JOBS" --quiet
done
# Labelled copy of our output (two classes by record parity) for dataset-split; not timed.
awk 'NR % 2 == 1 { print $0 " label=" ((NR % 4 == 1) ? 1 : 0); next } { print }' "$WORK/ours.fa" > "$WORK/labelled.fa"
for r in $(seq "$REPS"); do
  timed "dataset-split (stratified, self-check)" "" "$BIN/dataset-split" "$WORK/labelled.fa" --train "$WORK/train.fa" \
    --val "$WORK/val.fa" --test "$WORK/test.fa" -j "$JOBS" --quiet --json "$WORK/split.json"
done
SPLIT_COUNTS=$("$PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['counts']; print(', '.join(f'{k} {c[k+\"_records\"]:,}' for k in ('train','val','test')))" "$WORK/split.json")

"$PY" - "$WORK/rows.tsv" "$N" "$TRUTH" "$SPLIT_COUNTS" "$REPS" > "$OUT_MD" <<'PYEOF'
import platform, statistics, subprocess, sys
from collections import defaultdict
rows, n, truth, split_counts, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
by = defaultdict(list)
for line in open(rows):
    name, wall, rss, recs, cpu = line.rstrip("\n").split("\t")
    by[name].append((float(wall), int(rss), recs, float(cpu)))
anchor = statistics.median(v[0] for v in by["seqkit rmdup -s -i -j 2"])
anchor_cpu = statistics.median(v[3] for v in by["seqkit rmdup -s -i -j 2"])
load = open("/proc/loadavg").read().split()[:3]
print(f"Machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
      f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; load average at the end {' '.join(load)} "
      "(the tools alternate: compare only figures from the same run).\n")
print(f"Input: {n:,} records x 1 kb; truth (canonical, case-insensitive) {truth:,} unique. Runs per tool: {reps}.\n")
print("| tool | median wall s (min-max) | CPU s (user+sys) | peak RSS MB | records out | matches truth | x seqkit wall | x seqkit CPU |")
print("|---|---|---:|---:|---:|---|---:|---:|")
for name, vals in by.items():
    walls = [v[0] for v in vals]
    med, cpu = statistics.median(walls), statistics.median(v[3] for v in vals)
    recs = vals[-1][2]
    ok = "-" if recs == "-" else ("yes" if int(recs) == truth else f"NO ({recs})")
    shown = recs if recs == "-" else f"{int(recs):,}"
    print(f"| {name} | {med:.2f} ({min(walls):.2f}-{max(walls):.2f}) | {cpu:.1f} | {max(v[1] for v in vals)} | {shown} | {ok} "
          f"| {med / anchor:.2f} | {cpu / anchor_cpu:.2f} |")
print(f"\ndataset-split output: {split_counts}.")
PYEOF
