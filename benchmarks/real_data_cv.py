"""K-fold cross-validation of the real-data benchmark (``STAGE=cv bash benchmarks/bench_real_data.sh``).

Why: the single test splits of ``real-data.md`` are small (150 sequences for the DNABERT sample,
300 for iEnhancer-2L), so a model's difference to the k-mer floor there is known to about
±0.02-0.03. Cross-validation over each whole set scores every sequence once, by models that
never saw it, which narrows the interval of the difference by about the square root of the
gain in test sequences. It chooses nothing: it is a second, more precise reading of the same
fixed recipe.

  folds POOL.fa --out DIR --k K --seed S [--by-chrom]
      Assigns each record of a de-duplicated labelled FASTA to one of K folds (class-stratified
      at random, or whole chromosomes with --by-chrom, from region=chrom:start-end, greedily
      balanced by record count), then writes DIR/fold<k>/split/{train,val,test}.fa: test = fold k,
      val = fold k+1 (mod K), train = the others. DIR/folds.json gives each fold's class counts
      and, with --by-chrom, its chromosomes.
  table WORK --datasets "..." --folds K [--bootstrap N --seed S --existing MD]
      Writes the Markdown of benchmarks/results/real-data-cv.md (stdout) from the folds' test
      scores (WORK/<ds>/cv/fold<k>/scores/*.tsv): each model's ROC-AUC and PR-AUC averaged over
      the folds, with intervals and paired differences to the k-mer floor from report's paired
      bootstrap drawn within each fold. Figures are per fold and then averaged, not pooled: each fold's models
      are calibrated on that fold's own validation part, so pooling the folds' probabilities
      would also score how alike the folds' calibrations are, not only how well each model ranks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
from collections import Counter, defaultdict

import numpy as np

from enhancer_tools.io.fasta import read_fasta, write_fasta
from enhancer_tools.report.bootstrap import (
    WeightedMetrics,
    paired_difference,
    percentile_ci,
    resample_weights,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from real_data_table import (
    FLOOR_RULE,
    NAMES,
    NOTES_BEGIN,
    NOTES_END,
    _tag,
    kept,
    load,
    machine,
    target_status,
)

MODELS = ("cnn", "ensemble", "dnabert2", "gc")
METRICS = ("roc_auc", "pr_auc")


def _field(record, key: str) -> str:
    for token in record.description.split():
        if token.startswith(key + "="):
            return token[len(key) + 1:]
    raise SystemExit(f"record {record.id} has no {key}=")


def assign_folds(records: list, k: int, seed: int, by_chrom: bool) -> tuple[list[int], dict]:
    """The fold of each FastaRecord, and the chromosomes of each fold (empty for random folds)."""
    if by_chrom:
        chroms = [_field(r, "region").rsplit(":", 1)[0] for r in records]
        sizes = Counter(chroms)
        load_of, group = [0] * k, {}
        for chrom, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
            fold = min(range(k), key=lambda f: (load_of[f], f))
            group[chrom] = fold
            load_of[fold] += n
        folds = [group[c] for c in chroms]
        return folds, {f"fold{f}": sorted(c for c, g in group.items() if g == f) for f in range(k)}
    rng = random.Random(seed)
    folds = [0] * len(records)
    for label in sorted({_field(r, "label") for r in records}):
        members = [i for i, r in enumerate(records) if _field(r, "label") == label]
        rng.shuffle(members)
        for rank, i in enumerate(members):
            folds[i] = rank % k
    return folds, {}


def write_folds(pool: str, out: str, k: int, seed: int, by_chrom: bool) -> None:
    """The ``folds`` command (module docstring): OUT/fold<k>/split/*.fa and OUT/folds.json."""
    records = list(read_fasta(pool))
    folds, groups = assign_folds(records, k, seed, by_chrom)
    counts = defaultdict(Counter)
    for r, f in zip(records, folds):
        counts[f"fold{f}"][_field(r, "label")] += 1
    for f in range(k):
        split = os.path.join(out, f"fold{f}", "split")
        os.makedirs(split, exist_ok=True)
        role = {f: "test", (f + 1) % k: "val"}
        for name in ("train", "val", "test"):
            with open(os.path.join(split, f"{name}.fa.tmp"), "w") as fh:
                for r, g in zip(records, folds):
                    if role.get(g, "train") == name:
                        write_fasta(fh, f"{r.id} {r.description}", r.seq)
            os.replace(os.path.join(split, f"{name}.fa.tmp"), os.path.join(split, f"{name}.fa"))
    with open(os.path.join(out, "folds.json"), "w") as fh:
        json.dump({"k": k, "seed": seed, "by_chrom": by_chrom, "records": len(records),
                   "labels_per_fold": {f: dict(c) for f, c in sorted(counts.items())}, "chromosomes": groups}, fh, indent=1)


def fold_scores(fold_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """model -> (labels, scores) of one fold's test part, every model in the same record order."""
    out, order = {}, None
    for name in sorted(os.listdir(os.path.join(fold_dir, "scores"))):
        with open(os.path.join(fold_dir, "scores", name)) as fh:
            rows = {r["id"]: r for r in csv.DictReader(fh, delimiter="\t")}
        order = order or sorted(rows)
        if sorted(rows) != order:
            raise SystemExit(f"{fold_dir}: {name} scores other records than the other models")
        out[name.removesuffix(".tsv")] = (np.array([int(rows[i]["label"]) for i in order]),
                                          np.array([float(rows[i]["p"]) for i in order]))
    return out


def fold_bootstrap(folds: list[dict], n: int, seed: int) -> dict:
    """(mean, ci low, ci high, difference to "kmer", its ci low, ci high) per (model, metric):
    each model's ROC-AUC and PR-AUC on each fold's test part averaged over the folds, with 95%
    percentile intervals from ``n`` bootstrap resamples drawn within each fold, every model on
    the same resamples (``report``'s paired bootstrap, fold by fold)."""
    models = list(folds[0])
    point = {m: {k: [] for k in METRICS} for m in models}
    draws = {m: {k: [] for k in METRICS} for m in models}
    for f, fold in enumerate(folds):
        n_rows = len(fold["kmer"][0])
        weights = np.concatenate(list(resample_weights(n_rows, n, seed + f)))
        for m in models:
            labels, scores = fold[m]
            evaluate = WeightedMetrics(labels, scores, np.zeros(n_rows, dtype=bool))
            full, resampled = evaluate(np.ones((1, n_rows))), evaluate(weights)
            for k in METRICS:
                point[m][k].append(float(full[k][0]))
                draws[m][k].append(resampled[k])
    out = {}
    for m in models:
        for k in METRICS:
            values, floor = np.mean(draws[m][k], axis=0), np.mean(draws["kmer"][k], axis=0)
            mean, floor_mean = float(np.mean(point[m][k])), float(np.mean(point["kmer"][k]))
            diff = paired_difference(values, floor)
            out[(m, k)] = (mean, *percentile_ci(values), mean - floor_mean, diff["ci_low"], diff["ci_high"])
            out[(m, k, "folds")] = point[m][k]
    return out


def _family(model: str) -> str:
    return "dnabert2" if model.startswith("dnabert2_s") else model


def dataset_section(work: str, ds: str, k: int, n: int, seed: int, verdicts: dict) -> list[str]:
    C = os.path.join(work, ds, "cv")
    if not all(os.path.isdir(os.path.join(C, f"fold{f}", "scores")) for f in range(k)):
        return [f"## {NAMES.get(ds, ds)}", "", "not run (fold scores missing)", ""]
    info = load(os.path.join(C, "folds.json")) or {}
    folds = [fold_scores(os.path.join(C, f"fold{f}")) for f in range(k)]
    stats = fold_bootstrap(folds, n, seed)
    out = [f"## {NAMES.get(ds, ds)}", ""]
    how = ("whole chromosomes per fold: " + "; ".join(f"{f} {', '.join(c)}" for f, c in info["chromosomes"].items())
           if info.get("by_chrom") else f"class-stratified at random (seed {info.get('seed')})")
    sizes = " / ".join(str(len(fold["kmer"][0])) for fold in folds)
    out += [(f"{info.get('records')} sequences after fasta-rc-dedup of train + val + test; {k} folds ({sizes} "
             f"sequences), {how}. Each fold: test = that fold, validation = the next, training = the rest; audited "
             "with `dataset-split --check --strict`."), "",
            ("| model | ROC-AUC, mean of folds (95% CI) | PR-AUC, mean of folds (95% CI) | Δ ROC-AUC vs k-mer (95% CI) | "
             "Δ PR-AUC vs k-mer (95% CI) | Δ ROC-AUC per fold | folds with Δ ROC-AUC ≥ 0 |"),
            "|---|---|---|---|---|---|---|"]
    models = folds[0]
    order = ["kmer", "cnn", *sorted(m for m in models if m.startswith("cnn_x")),
             *sorted(m for m in models if m.startswith("dnabert2_s")), "ensemble", "gc"]
    for m in [x for x in order if x in models]:
        (v, lo, hi, d, dlo, dhi), (pv, plo, phi, dp, dplo, dphi) = stats[(m, "roc_auc")], stats[(m, "pr_auc")]
        cells = [f"{v:.3f} ({lo:.3f}–{hi:.3f})", f"{pv:.3f} ({plo:.3f}–{phi:.3f})"]
        fold_roc = stats[(m, "roc_auc", "folds")]
        per_fold = [a - b for a, b in zip(fold_roc, stats[("kmer", "roc_auc", "folds")])]
        if m == "kmer":
            cells += ["–", "–", "ROC-AUC " + " / ".join(f"{v:.3f}" for v in fold_roc), "floor"]
        else:
            cells += [f"{d:+.3f} ({dlo:+.3f} to {dhi:+.3f})", f"{dp:+.3f} ({dplo:+.3f} to {dphi:+.3f})",
                      " / ".join(f"{x:+.3f}" for x in per_fold), f"{sum(x >= 0 for x in per_fold)} of {k}"]
            verdicts[_family(m)].append((f"{ds} ({m.split('_')[1].replace('s', 'seed ')})" if m.startswith("dnabert2_s")
                                         else ds, d, dlo, dhi, dp, dplo, dphi))
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    seeds = [_text(os.path.join(C, f"fold{f}", "ensemble_dnabert2_seed")) for f in range(k)]
    if all(seeds):
        out += ["", "Ensemble's DNABERT-2 member per fold (best validation PR-AUC of the seeds): seeds "
                + " / ".join(seeds) + "."]
    return out + [""]


def _text(path: str) -> str | None:
    """A small file's stripped text, or None when it is absent."""
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return fh.read().strip()


def table(args) -> None:
    work, datasets, k = args.work, args.datasets.split(), args.folds
    run = {name: _text(os.path.join(work, name)) or "?" for name in ("finished", "wall_seconds", "loadavg")}
    out = ["# Real-data benchmark by cross-validation: every sequence scored once, out of fold (issue 18)", "",
           ("Script: `STAGE=cv bash benchmarks/bench_real_data.sh` (`benchmarks/real_data_cv.py` makes the folds and "
            "writes this file). The same recipe as `real-data.md` (the same data preparation, the same models with the "
            "same options: kmer-baseline, enhancernet-train's defaults (cnn: 3 replicate networks) and with --replicates N (cnn_xN), bpe-train + dnabert2-finetune --init tiny for "
            "seeds 1-3, model-ensemble of the best-validation seed + CNN + k-mer, the gc reference), run once per "
            "fold. Nothing is chosen here: every choice inside a fold (epochs, C, thresholds, temperatures, the "
            "ensemble's fit and its DNABERT-2 seed) is made on that fold's validation part."), "",
           (f"Run finished {run['finished']} on {machine()}; `--threads 1` for every trainer; total wall time "
            f"{run['wall_seconds']} s; load average at the end {run['loadavg']}."), "",
           (f"Figures: each model's ROC-AUC / PR-AUC on each fold's test part, averaged over the {k} folds; 95% "
            f"percentile intervals from {args.bootstrap} bootstrap resamples drawn within each fold "
            "(`report`'s bootstrap; every model on the same resamples, so Δ, the difference to the k-mer floor, is paired). Averaged, "
            "not pooled: each fold's models are calibrated on their own validation part, so one AUC over all "
            "folds' probabilities together would also count how alike the folds' calibrations are."), ""]
    verdicts: dict = defaultdict(list)
    for ds in datasets:
        out += dataset_section(work, ds, k, args.bootstrap, args.seed, verdicts)
    out += ["## Against the k-mer floor, mean of the folds", "", FLOOR_RULE, ""]
    for m in ("cnn", *sorted(m for m in verdicts if m.startswith("cnn_x")), *MODELS[1:]):
        rows = verdicts.get(m)
        if rows:
            status = f" **{target_status(rows)}.**" if m in ("cnn", "ensemble") else ""
            out.append(f"- {m}: " + "; ".join(f"{ds} ΔROC {d:+.3f} ({_tag(d, lo, hi)}) / ΔPR {dp:+.3f} "
                                                f"({_tag(dp, plo, phi)})" for ds, d, lo, hi, dp, plo, phi in rows)
                       + "." + status)
    out += ["", "## Reading (hand-written; kept when the tables are regenerated, so check it against them)", "",
            NOTES_BEGIN, kept(args.existing, NOTES_BEGIN, NOTES_END) or "(no notes yet)", NOTES_END, ""]
    print("\n".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("folds")
    f.add_argument("pool")
    f.add_argument("--out", required=True)
    f.add_argument("--k", type=int, default=5)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--by-chrom", action="store_true")
    t = sub.add_parser("table")
    t.add_argument("work")
    t.add_argument("--datasets", default="ienhancer2l dnabert yeast")
    t.add_argument("--folds", type=int, default=5)
    t.add_argument("--bootstrap", type=int, default=1000)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--existing", default="")
    args = ap.parse_args()
    if args.command == "folds":
        write_folds(args.pool, args.out, args.k, args.seed, args.by_chrom)
    else:
        table(args)


if __name__ == "__main__":
    main()
