#!/usr/bin/env bash
# explain-regions on real data (issue 20, "Real data"): which motifs does the CNN learn from yeast
# ATAC peaks, and are they the open-chromatin factors a yeast biologist expects (Reb1, Abf1, Rap1,
# Cbf1, Mcm1, ...) or only GC / poly-A tracts? The project's console scripts only:
#
#   1. bench_real_data.sh STAGE=prep DATASETS=yeast: bed-summit-window 500 bp on the summit,
#      background-windows GC-matched 1:1, fasta-rc-dedup, dataset-split with whole chromosomes
#      held out (val chrIV, test chrVII,chrXV).
#   2. enhancernet-train on train/val (its defaults, as in bench_real_data.sh).
#   3. score-regions on the test split (the CNN's test ROC-AUC, for the record only).
#   4. explain-regions on the positives (label=1) of EXPLAIN_SPLITS (default: the held-out test
#      split): integrated gradients, tfmodisco-lite, TOMTOM against JASPAR 2024 CORE fungi.
#   5. benchmarks/explain_yeast_table.py writes benchmarks/results/explain-yeast.md.
#
#   bash benchmarks/bench_explain_yeast.sh [results.md]
# Knobs (environment): WORK=/tmp/explain-yeast-bench DATA=../shared/data BIN=.venv/bin THREADS=1
#   SEED=1 (split + CNN) EXPLAIN_SPLITS="test" (or "val test") METHOD=ig IG_STEPS=32
#   MOTIFS=JASPAR2024 TAX_GROUP=fungi CNN_OPTS="" EXPLAIN_OPTS="" (extra explain-regions options)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
WORK=${WORK:-/tmp/explain-yeast-bench}
BIN=${BIN:-.venv/bin}
THREADS=${THREADS:-1}
SEED=${SEED:-1}
EXPLAIN_SPLITS=${EXPLAIN_SPLITS:-test}
METHOD=${METHOD:-ig}
IG_STEPS=${IG_STEPS:-32}
MOTIFS=${MOTIFS:-JASPAR2024}
TAX_GROUP=${TAX_GROUP:-fungi}
CNN_OPTS=${CNN_OPTS:-}
EXPLAIN_OPTS=${EXPLAIN_OPTS:-}
OUT_MD=${1:-benchmarks/results/explain-yeast.md}

[ -d "$DATA" ] || { echo "no data folder $DATA" >&2; exit 2; }
mkdir -p "$WORK"
STEPS=$WORK/steps.tsv
: > "$STEPS"
T_START=$(date +%s)

step() {  # name, command... -> runs it, log in $WORK/yeast/logs/<name>.log, time in $STEPS
  local name=$1 t0 t1; shift
  mkdir -p "$WORK/yeast/logs"
  echo "[$(date -u +%H:%M:%S)] $name" >&2
  t0=$(date +%s.%N)
  "$@" > "$WORK/yeast/logs/$name.log" 2>&1 || { echo "step $name failed:" >&2; tail -30 "$WORK/yeast/logs/$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v d=yeast -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf("%s\t%s\t%.1f\n", d, n, b - a) }' >> "$STEPS"
}

# 1. data (bench_real_data.sh appends its step times to the same $WORK/steps.tsv)
WORK=$WORK DATA=$DATA BIN=$BIN THREADS=$THREADS SEED=$SEED STAGE=prep DATASETS=yeast bash benchmarks/bench_real_data.sh
D=$WORK/yeast S=$D/split R=$D/runs
rm -rf "$D/models" "$D/scores" "$D/explain"; mkdir -p "$D/models" "$D/scores"

# 2. the CNN (enhancernet-train's defaults)
step cnn_train "$BIN/enhancernet-train" --train "$S/train.fa" --val "$S/val.fa" -o "$D/models/cnn" \
  $CNN_OPTS --device cpu --threads "$THREADS" --seed "$SEED" --json "$R/enhancernet-train.json" --quiet

# 3. its test scores (ROC-AUC for the record; nothing is chosen on them)
step score_test "$BIN/score-regions" --model "$D/models/cnn" --fasta "$S/test.fa" -o "$D/scores/cnn.tsv" \
  --device cpu --threads "$THREADS" --json "$R/score-regions.cnn.json" --quiet

# 4. explain the positives of the held-out split(s)
for s in $EXPLAIN_SPLITS; do awk '/^>/ { keep = / label=1( |$)/ } keep' "$S/$s.fa"; done > "$D/positives.fa"
echo "$EXPLAIN_SPLITS" > "$D/explain_splits"
step explain "$BIN/explain-regions" --model "$D/models/cnn" --fasta "$D/positives.fa" --method "$METHOD" \
  --steps "$IG_STEPS" --modisco --motifs "$MOTIFS" --tax-group "$TAX_GROUP" $EXPLAIN_OPTS -o "$D/explain" \
  --device cpu -j "$THREADS" --json "$R/explain-regions.json"

echo $(( $(date +%s) - T_START )) > "$WORK/wall_seconds"
cut -d" " -f1-3 /proc/loadavg > "$WORK/loadavg"
nproc > "$WORK/nproc"
sed -n "s/^model name[[:space:]]*: //p" /proc/cpuinfo | head -1 > "$WORK/cpu_model"
date -u '+%Y-%m-%d %H:%M UTC' > "$WORK/finished"

# 5. the results table
mkdir -p "$(dirname "$OUT_MD")"
"$BIN/python" benchmarks/explain_yeast_table.py "$WORK" --threads "$THREADS" --seed "$SEED" \
  --splits "$EXPLAIN_SPLITS" --method "$METHOD" --ig-steps "$IG_STEPS" --motifs "$MOTIFS" --tax-group "$TAX_GROUP" \
  --cnn-opts "$CNN_OPTS" --explain-opts "$EXPLAIN_OPTS" --existing "$OUT_MD" > "$OUT_MD.tmp"
mv "$OUT_MD.tmp" "$OUT_MD"
echo "wrote $OUT_MD (work files in $WORK; $(cat "$WORK/wall_seconds") s)" >&2
