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
# One torch thread per trainer: these tiny models gain nothing from a second thread on 2 cores,
# and two threads waiting on each other cost several times the CPU when the machine is busy.

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

step "bpe-train: BPE vocabulary on the training split, token-length statistics"
# The tokenizer for the tiny DNABERT-2 trained from scratch below; with the released checkpoint
# use its own tokenizer.json instead (its embeddings only fit that vocabulary).
bpe-train "$OUT/split/train.fa" --vocab-size "${DEMO_VOCAB:-4096}" --seed 1 -o "$OUT/tokenizer.json" \
  --max-length "${DEMO_MAX_LENGTH:-216}" --json "$STATS/bpe-train.json" $Q

step "dnabert2-finetune: a tiny DNABERT-2 (1 head) from scratch on the demo's BPE vocabulary"
# --init's defaults (mean pooling, lr 3e-4 with warmup and cosine decay, 10 epochs, dropout 0.2,
# both strands) are the demo's settings: the median of seeds 1-3 reaches the k-mer floor.
dnabert2-finetune --train "$OUT/split/train.fa" --val "$OUT/split/val.fa" --init tiny \
  --tokenizer "$OUT/tokenizer.json" -o "$OUT/models/dnabert2" --force --max-length "${DEMO_MAX_LENGTH:-216}" \
  --device cpu --threads 1 --seed 1 --json "$STATS/dnabert2-finetune.json" $Q

step "enhancernet-train: the CNN baseline"
# One network, not the default three: on demo 1 kb windows a fourth epoch helps more than
# replicates (tests/demo_labelled.py's split, one thread: validation ROC-AUC 0.960 for one network
# x 4 epochs in 43 CPU-s, 0.951 for three x 3 epochs in 104), and three x 4 epochs (0.964) take
# 134 CPU-s, past the demo CNN's 2-minute target.
enhancernet-train --train "$OUT/split/train.fa" --val "$OUT/split/val.fa" -o "$OUT/models/enhancernet" --force \
  --epochs "${DEMO_CNN_EPOCHS:-4}" --replicates "${DEMO_CNN_REPLICATES:-1}" --device cpu --threads 1 --seed 1 \
  --json "$STATS/enhancernet-train.json" $Q

step "kmer-baseline: the floor every model must beat"
kmer-baseline --train "$OUT/split/train.fa" --val "$OUT/split/val.fa" -o "$OUT/models/kmer" --force \
  --json "$STATS/kmer-baseline.json" $Q

step "model-ensemble: the three stacked on validation (cross-fitted), the hybrid DNABERT-2 + CNN + k-mer"
model-ensemble --member dnabert2="$OUT/models/dnabert2" --member enhancernet="$OUT/models/enhancernet" \
  --member kmer="$OUT/models/kmer" --val "$OUT/split/val.fa" -o "$OUT/models/ensemble" --force --device cpu \
  --json "$STATS/model-ensemble.json" $Q

for m in $(ls "$OUT/models"); do
  step "score-regions: $m on the held-out test split"
  score-regions --model "$OUT/models/$m" --fasta "$OUT/split/test.fa" -o "$OUT/scores/$m.tsv" \
    --device cpu --json "$STATS/score-regions.$m.json" $Q
done

step "report: metrics with confidence intervals, comparison, MultiQC"
SCORES=()
for m in $(ls "$OUT/models"); do SCORES+=(--scores "$m=$OUT/scores/$m.tsv"); done
report "${SCORES[@]}" --floor kmer --stats "$STATS" -o "$OUT/report" --force --bootstrap 1000 --seed 1 \
  --json "$STATS/report.json" $Q

step "done"
cat <<MSG
Results in $OUT/:
  windows.fa, background.fa, dataset.fa, split/{train,val,test}.fa, tokenizer.json
  models/<model>/ (model directories), scores/<model>.tsv (held-out test scores)
  report/metrics.tsv, report/figures/
Report: $OUT/report/multiqc_report.html
MSG
