#!/usr/bin/env bash
# Real-data benchmark (issue 18, part 4): three open datasets end to end with the project's
# console scripts only, then benchmarks/real_data_table.py writes benchmarks/results/real-data.md.
#
#   ienhancer2l  iEnhancer-2L layer 1 (strong + weak enhancers vs non-enhancers, 200 bp, hg19);
#                the published test set de-duplicated against training with fasta-rc-dedup
#                (train files first, keep-first, --clusters), validation split from training only.
#   dnabert      DNABERT enhancer sample (500 + 500 x 200 bp): CSV -> labelled FASTA (awk),
#                dataset-split 0.7/0.15/0.15 (stratified, duplicate-aware).
#   yeast        yeast ATAC accessible regions on sacCer3: chromosomes concatenated to one FASTA
#                (bed-summit-window indexes it), bed-summit-window 500 bp on the summit,
#                background-windows GC-matched 1:1, fasta-rc-dedup, dataset-split with whole
#                chromosomes held out (val chrIV, test chrVII,chrXV): neighbouring windows
#                overlap, so a random split would put overlapping sequence on both sides.
#
# For each: kmer-baseline (the floor), enhancernet-train (the CNN, its defaults: 3 replicate networks;
# and as cnn_xN with --replicates N, CNN_REPLICATES, default 1: the single network), bpe-train on
# the train split + dnabert2-finetune --init tiny for each seed in SEEDS, model-ensemble (when the
# tool exists; the DNABERT-2 member is the seed with the best validation PR-AUC), score-regions
# on the test split, report --floor kmer --bootstrap $BOOTSTRAP (with a "gc" reference row: the
# GC fraction of each sequence as its score, no training). The test split is used for
# nothing but that final scoring: every choice (epochs, C, threshold, temperature, ensemble
# weights, the DNABERT-2 seed of the ensemble) is made on validation.
#
#   bash benchmarks/bench_real_data.sh [results.md]
# Knobs (environment): WORK=/tmp/real-data-bench DATA=../shared/data BIN=.venv/bin
#   DATASETS="ienhancer2l dnabert yeast" SEEDS="1 2 3" THREADS=1 BOOTSTRAP=1000 SEED=1 (splits)
#   STAGE=all|prep|cv (prep: only the data preparation, for CNN selection runs on validation;
#   cv: the same preparation and models, run once per fold of a FOLDS-fold cross-validation
#   over each whole set, see benchmarks/real_data_cv.py; WORK defaults to /tmp/real-data-cv and
#   the results file to benchmarks/results/real-data-cv.md) FOLDS=5
#   CNN_OPTS, CNN_REPLICATES, KMER_OPTS, DNABERT_OPTS, BPE_VOCAB (below) to change the models' options.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${DATA:-../shared/data}
STAGE=${STAGE:-all}
if [ "$STAGE" = cv ]; then WORK=${WORK:-/tmp/real-data-cv}; else WORK=${WORK:-/tmp/real-data-bench}; fi
BIN=${BIN:-.venv/bin}
DATASETS=${DATASETS:-ienhancer2l dnabert yeast}
SEEDS=${SEEDS:-1 2 3}
THREADS=${THREADS:-1}
BOOTSTRAP=${BOOTSTRAP:-1000}
SEED=${SEED:-1}
FOLDS=${FOLDS:-5}
if [ "$STAGE" = cv ]; then OUT_MD=${1:-benchmarks/results/real-data-cv.md}; else OUT_MD=${1:-benchmarks/results/real-data.md}; fi

# ---- model options (easy to change; the DNABERT-2 ones follow scripts/run-demo.sh) ----------
# CNN: enhancernet-train's own defaults (width = longest training sequence).
CNN_OPTS=${CNN_OPTS:-}
# A second CNN row for comparison, cnn_xN: the same options with --replicates N (1: the single
# network that was the default before issue 18's last change); empty leaves the row out. The
# ensemble's CNN member is the default one (cnn).
CNN_REPLICATES=${CNN_REPLICATES-1}
# k-mer floor: the default C grid extended downwards (its best sat at the lower edge on iEnhancer-2L).
KMER_OPTS=${KMER_OPTS:---c-grid 0.000001,0.00001,0.0001,0.001,0.01,0.1,1,10,100}
# Tiny DNABERT-2 from scratch on a BPE vocabulary of the train split, with dnabert2-finetune's
# --init defaults (as scripts/run-demo.sh); --max-length is added per dataset from bpe-train's
# recommended_max_length (token lengths of the train split).
BPE_VOCAB=${BPE_VOCAB:-4096}
DNABERT_OPTS=${DNABERT_OPTS:-}

[ -d "$DATA" ] || { echo "no data folder $DATA" >&2; exit 2; }
mkdir -p "$WORK"
STEPS=$WORK/steps.tsv
[ "$STAGE" = prep ] || : > "$STEPS"
T_START=$(date +%s)

step() {  # dataset, name, command... -> runs it, log in $WORK/<dataset>/logs/<name>.log, time in $STEPS
  local ds=$1 name=$2 t0 t1; shift 2
  mkdir -p "$WORK/$ds/logs"
  echo "[$(date -u +%H:%M:%S)] $ds $name" >&2
  t0=$(date +%s.%N)
  "$@" > "$WORK/$ds/logs/$name.log" 2>&1 || { echo "step $ds/$name failed:" >&2; tail -30 "$WORK/$ds/logs/$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v d="$ds" -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf("%s\t%s\t%.1f\n", d, n, b - a) }' >> "$STEPS"
}

# ---- data preparation: each writes $D/split/{train,val,test}.fa -------------------------------
prep_ienhancer2l() {
  local D=$1 SRC=$DATA/iEnhancer-2L_DCLA IN=$1/input s
  local SETS="train_strong_enhancers train_weak_enhancers train_non_enhancers test_strong_enhancers test_weak_enhancers test_non_enhancers"
  mkdir -p "$IN"
  # Unique ids + label= (the published files reuse ids, which every tool rightly refuses).
  for s in $SETS; do
    local lab=1; case $s in *_non_enhancers) lab=0 ;; esac
    awk -v p="$s" -v lab="$lab" \
      '/^>/ { cr = sub(/\r$/, ""); n++; printf(">%s_%04d label=%s%s\n", p, n, lab, cr ? "\r" : ""); next } { print }' \
      "$SRC/$s.txt" > "$IN/$s.fa"
  done
  # Test de-duplicated against train: train files first, so a test record equal (either strand,
  # any case) to a training record joins that record's group and is not kept.
  step ienhancer2l dedup "$BIN/fasta-rc-dedup" "$IN"/train_strong_enhancers.fa "$IN"/train_weak_enhancers.fa \
    "$IN"/train_non_enhancers.fa "$IN"/test_strong_enhancers.fa "$IN"/test_weak_enhancers.fa "$IN"/test_non_enhancers.fa \
    --conflicts keep-first -o "$IN/dedup_all.fa" --clusters "$IN/dedup_clusters.tsv" --json "$D/runs/fasta-rc-dedup.json" --quiet
  awk '/^>/ { keep = ($1 ~ /^>test_/) } keep' "$IN/dedup_all.fa" > "$D/split/test.fa"
  step ienhancer2l split "$BIN/dataset-split" "$IN"/train_strong_enhancers.fa "$IN"/train_weak_enhancers.fa \
    "$IN"/train_non_enhancers.fa --fractions 0.849,0.15,0.001 --seed "$SEED" \
    --train "$D/split/train.fa" --val "$D/split/val.fa" --test "$IN/discarded.fa" --json "$D/runs/dataset-split.json" --quiet
}

prep_dnabert() {
  local D=$1 IN=$1/input
  mkdir -p "$IN"
  # CSV ",coordinate,sequence,class" -> >dnabert_<row> label=<1 enhancer, 0 non-enhancer> region=<coordinate>
  awk -F, 'NR > 1 { sub(/\r$/, ""); lab = ($4 == "enhancer") ? 1 : ($4 == "non-enhancer") ? 0 : "?"
                    printf(">dnabert_%s label=%s region=%s\n%s\n", $1, lab, $2, $3) }' \
    "$DATA/dnabert_enhancer_sample/Sample_Fine-tune_data_entries.csv" > "$IN/dnabert.fa"
  step dnabert split "$BIN/dataset-split" "$IN/dnabert.fa" --fractions 0.7,0.15,0.15 --seed "$SEED" \
    --train "$D/split/train.fa" --val "$D/split/val.fa" --test "$D/split/test.fa" --json "$D/runs/dataset-split.json" --quiet
}

prep_yeast() {
  local D=$1 SRC=$DATA/yeast_sacCer3_atac IN=$1/input c
  mkdir -p "$IN"
  for c in I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI M; do cat "$SRC/chroms/chr$c.fa"; done > "$IN/sacCer3.fa"
  step yeast summit_windows "$BIN/bed-summit-window" "$SRC/hmmratac_yeast500k_accessible_regions.narrowPeak" \
    --genome "$IN/sacCer3.fa" --width 500 --exclude-chroms chrM -o "$IN/windows.fa" --bed "$IN/windows.bed" \
    --rejects "$IN/windows.rejects.tsv" --json "$D/runs/bed-summit-window.json" --quiet
  step yeast background "$BIN/background-windows" --genome "$IN/sacCer3.fa" --exclude "$IN/windows.bed" \
    --like "$IN/windows.fa" --width 500 --ratio 1.0 --exclude-chroms chrM --seed "$SEED" \
    -o "$IN/background.fa" --bed "$IN/background.bed" --json "$D/runs/background-windows.json" --quiet
  step yeast dedup "$BIN/fasta-rc-dedup" "$IN/windows.fa" "$IN/background.fa" -o "$IN/dataset.fa" \
    --clusters "$IN/dedup_clusters.tsv" --json "$D/runs/fasta-rc-dedup.json" --quiet
  step yeast split "$BIN/dataset-split" "$IN/dataset.fa" --holdout-chroms val=chrIV --holdout-chroms test=chrVII,chrXV \
    --train "$D/split/train.fa" --val "$D/split/val.fa" --test "$D/split/test.fa" --json "$D/runs/dataset-split.json" --quiet
}

# ---- models, scores, report -----------------------------------------------------------------
gc_scores() {  # labelled FASTA -> scores TSV (id, p = G+C share of the A/C/G/T bases, label)
  awk 'function out() { if (id != "") { n = gsub(/[ACGTacgt]/, "&", seq); g = gsub(/[CGcg]/, "&", seq)
                          printf("%s\t%.6f\t%s\n", id, n ? g / n : 0.5, lab) } }
       BEGIN { print "id\tp\tlabel" }
       /^>/ { out(); id = substr($1, 2); seq = ""; lab = "NA"
              for (i = 2; i <= NF; i++) if ($i ~ /^label=/) lab = substr($i, 7); next }
       { seq = seq $0 }
       END { out() }' "$1"
}
models() {
  local ds=$1 D=$2 S=$2/split R=$2/runs M=$2/models seed best maxlen m
  rm -rf "$M" "$D/scores" "$D/report"; mkdir -p "$M" "$D/scores"
  step "$ds" kmer_train "$BIN/kmer-baseline" --train "$S/train.fa" --val "$S/val.fa" -o "$M/kmer" \
    $KMER_OPTS --json "$R/kmer-baseline.json" --quiet
  step "$ds" cnn_train "$BIN/enhancernet-train" --train "$S/train.fa" --val "$S/val.fa" -o "$M/cnn" \
    $CNN_OPTS --device cpu --threads "$THREADS" --seed "$SEED" --json "$R/enhancernet-train.json" --quiet
  if [ -n "$CNN_REPLICATES" ]; then
    step "$ds" cnn_replicates_train "$BIN/enhancernet-train" --train "$S/train.fa" --val "$S/val.fa" \
      -o "$M/cnn_x$CNN_REPLICATES" $CNN_OPTS --replicates "$CNN_REPLICATES" --device cpu --threads "$THREADS" \
      --seed "$SEED" --json "$R/enhancernet-train_x$CNN_REPLICATES.json" --quiet
  fi
  step "$ds" bpe_train "$BIN/bpe-train" "$S/train.fa" --vocab-size "$BPE_VOCAB" --seed "$SEED" -o "$D/tokenizer.json" \
    --json "$R/bpe-train.json" --quiet
  maxlen=$("$BIN/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token_lengths"]["recommended_max_length"])' "$R/bpe-train.json")
  for seed in $SEEDS; do
    step "$ds" "dnabert2_train_s$seed" "$BIN/dnabert2-finetune" --train "$S/train.fa" --val "$S/val.fa" --init tiny \
      --tokenizer "$D/tokenizer.json" -o "$M/dnabert2_s$seed" --max-length "$maxlen" $DNABERT_OPTS \
      --device cpu --threads "$THREADS" --seed "$seed" --json "$R/dnabert2-finetune_s$seed.json" --quiet
  done
  # The ensemble's DNABERT-2 member: the seed with the best validation PR-AUC.
  best=$("$BIN/python" - "$R" $SEEDS <<'PY'
import json, sys
runs, seeds = sys.argv[1], sys.argv[2:]
print(max(seeds, key=lambda s: json.load(open(f"{runs}/dnabert2-finetune_s{s}.json"))["validation"]["pr_auc"]))
PY
)
  echo "$best" > "$D/ensemble_dnabert2_seed"
  if [ -x "$BIN/model-ensemble" ]; then
    step "$ds" ensemble "$BIN/model-ensemble" --member "dnabert2=$M/dnabert2_s$best" --member "cnn=$M/cnn" \
      --member "kmer=$M/kmer" --val "$S/val.fa" -o "$M/ensemble" --seed "$SEED" \
      --device cpu --threads "$THREADS" --json "$R/model-ensemble.json" --quiet
  else
    echo "model-ensemble not installed in $BIN: ensemble skipped for $ds" >&2
  fi
  local SCORES=()
  for m in $(ls "$M"); do
    step "$ds" "score_$m" "$BIN/score-regions" --model "$M/$m" --fasta "$S/test.fa" -o "$D/scores/$m.tsv" \
      --device cpu --threads "$THREADS" --json "$R/score-regions.$m.json" --quiet
    SCORES+=(--scores "$m=$D/scores/$m.tsv")
  done
  # Reference without training: the GC fraction of each sequence as its score (how much of the
  # task composition alone explains); real_data_table.py reads the validation file.
  gc_scores "$S/test.fa" > "$D/scores/gc.tsv"
  gc_scores "$S/val.fa" > "$R/gc-val.tsv"
  SCORES+=(--scores "gc=$D/scores/gc.tsv")
  step "$ds" report "$BIN/report" "${SCORES[@]}" --floor kmer --stats "$R" --bootstrap "$BOOTSTRAP" --seed "$SEED" \
    -o "$D/report" --force --json "$R/report.json" --quiet
}

cross_validate() {  # dataset, its folder: models() once per fold (real_data_cv.py table reads the folds' scores)
  local ds=$1 C=$2/cv k by_chrom=
  rm -rf "$C"; mkdir -p "$C/input"
  cat "$2"/split/train.fa "$2"/split/val.fa "$2"/split/test.fa > "$C/input/pool.fa"
  step "$ds" cv_dedup "$BIN/fasta-rc-dedup" "$C/input/pool.fa" -o "$C/input/dataset.fa" --json "$C/fasta-rc-dedup.json" --quiet
  # Neighbouring yeast windows overlap, so its folds are whole chromosomes (as its single split).
  [ "$ds" = yeast ] && by_chrom=--by-chrom
  "$BIN/python" benchmarks/real_data_cv.py folds "$C/input/dataset.fa" --out "$C" --k "$FOLDS" --seed "$SEED" $by_chrom
  for k in $(seq 0 $((FOLDS - 1))); do
    mkdir -p "$C/fold$k/runs"
    step "$ds/cv/fold$k" audit "$BIN/dataset-split" --check --strict train="$C/fold$k/split/train.fa" \
      val="$C/fold$k/split/val.fa" test="$C/fold$k/split/test.fa" --json "$C/fold$k/runs/audit.json" --quiet
    models "$ds/cv/fold$k" "$C/fold$k"
  done
}

for ds in $DATASETS; do
  D=$WORK/$ds
  if [ "$STAGE" = prep ] || [ ! -s "$D/split/test.fa" ] || [ "${REPREP:-1}" = 1 ]; then
    rm -rf "$D"; mkdir -p "$D/split" "$D/runs"
    "prep_$ds" "$D"
    step "$ds" audit "$BIN/dataset-split" --check --strict train="$D/split/train.fa" val="$D/split/val.fa" \
      test="$D/split/test.fa" --json "$D/runs/audit.json" --quiet
  fi
  [ "$STAGE" = prep ] && continue
  if [ "$STAGE" = cv ]; then cross_validate "$ds" "$D"; else models "$ds" "$D"; fi
done
[ "$STAGE" = prep ] && { echo "prepared $DATASETS in $WORK" >&2; exit 0; }

echo $(( $(date +%s) - T_START )) > "$WORK/wall_seconds"
cut -d" " -f1-3 /proc/loadavg > "$WORK/loadavg"
date -u '+%Y-%m-%d %H:%M UTC' > "$WORK/finished"
mkdir -p "$(dirname "$OUT_MD")"
if [ "$STAGE" = cv ]; then
  "$BIN/python" benchmarks/real_data_cv.py table "$WORK" --datasets "$DATASETS" --folds "$FOLDS" --bootstrap "$BOOTSTRAP" --seed "$SEED" \
    --existing "$OUT_MD" > "$OUT_MD.tmp"
  mv "$OUT_MD.tmp" "$OUT_MD"
  echo "wrote $OUT_MD (work files in $WORK; $(cat "$WORK/wall_seconds") s)" >&2
  exit 0
fi
"$BIN/python" benchmarks/real_data_table.py "$WORK" --datasets "$DATASETS" --seeds "$SEEDS" --threads "$THREADS" \
  --cnn-opts "$CNN_OPTS" --kmer-opts "$KMER_OPTS" --dnabert-opts "$DNABERT_OPTS" --bpe-vocab "$BPE_VOCAB" \
  --existing "$OUT_MD" > "$OUT_MD.tmp"
mv "$OUT_MD.tmp" "$OUT_MD"
echo "wrote $OUT_MD (work files in $WORK; $(cat "$WORK/wall_seconds") s)" >&2
