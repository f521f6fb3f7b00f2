#!/usr/bin/env bash
# The whole enhancer-tools chain on the bundled synthetic demo data, on CPU with tiny models.
# Usage: scripts/run-demo.sh [OUT_DIR]   (`make demo` runs it with OUT_DIR=demo-out)
# Every step is one console script; the commands below are the ones a user runs on real data.
set -euo pipefail
OUT=${1:-demo-out}
STATS=$OUT/stats
mkdir -p "$OUT" "$STATS" "$OUT/split" "$OUT/models" "$OUT/scores"
T0=$(date +%s)
step() { echo "[demo $(( $(date +%s) - T0 ))s] $*" >&2; }
Q=--quiet

step "synthetic genome and peaks"
python -m enhancer_tools.demo --out "$OUT/data" --seed 1

step "bed-summit-window: 1 kb windows centred on summits"
bed-summit-window "$OUT/data/peaks.narrowPeak" --genome "$OUT/data/genome.fa" --width 1000 \
  -o "$OUT/windows.fa" --bed "$OUT/windows.bed" --rejects "$OUT/windows.rejects.tsv" \
  --json "$STATS/bed-summit-window.json" $Q

step "background-windows: GC-matched negatives"
background-windows --genome "$OUT/data/genome.fa" --exclude "$OUT/windows.bed" --like "$OUT/windows.fa" \
  --ratio 1.0 --seed 1 -o "$OUT/background.fa" --bed "$OUT/background.bed" \
  --json "$STATS/background-windows.json" $Q

step "fasta-rc-dedup: exact and reverse-complement duplicates"
fasta-rc-dedup "$OUT/windows.fa" "$OUT/background.fa" -o "$OUT/dataset.fa" \
  --clusters "$OUT/dedup.clusters.tsv" --json "$STATS/fasta-rc-dedup.json" $Q

step "dataset-split: class-stratified train/val/test"
dataset-split "$OUT/dataset.fa" --train "$OUT/split/train.fa" --val "$OUT/split/val.fa" \
  --test "$OUT/split/test.fa" --seed 1 --json "$STATS/dataset-split.json" $Q
