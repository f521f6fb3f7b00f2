"""Write benchmarks/results/real-data.md from a bench_real_data.sh work folder (stdout).

Reads only what the tools wrote: each training tool's --json (validation figures), report's
metrics.json and comparison.tsv (test figures, percentile intervals and paired-bootstrap
differences to the k-mer floor), the step timings, and WORK/cnn_selection.tsv (validation runs of
the CNN candidates, from real_data_cnn_select.py). When that file is absent the CNN-selection
section of --existing is kept as it was.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from statistics import mean

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_data_cnn_select

NAMES = {"ienhancer2l": "iEnhancer-2L layer 1 (test de-duplicated against train)",
         "dnabert": "DNABERT enhancer sample", "yeast": "yeast ATAC peaks (sacCer3) vs GC-matched background"}
SELECT_BEGIN, SELECT_END = "<!-- cnn-selection:begin -->", "<!-- cnn-selection:end -->"
NOTES_BEGIN, NOTES_END = "<!-- notes:begin -->", "<!-- notes:end -->"


def kept(existing: str, begin: str, end: str) -> str | None:
    """The hand-written text between two markers of the previous results file, if any."""
    if existing and os.path.exists(existing):
        text = open(existing).read()
        if begin in text and end in text:
            return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")
    return None


def load(path: str) -> dict | None:
    return json.load(open(path)) if os.path.exists(path) else None


def labels(fasta: str) -> tuple[int, int]:
    n = pos = 0
    with open(fasta) as fh:
        for line in fh:
            if line.startswith(">"):
                n += 1
                pos += " label=1" in line
    return n, pos


def ci(value, interval) -> str:
    if value is None:
        return "–"
    if not interval:
        return f"{value:.3f}"
    return f"{value:.3f} ({interval[0]:.3f}–{interval[1]:.3f})"


def diff(row: dict | None, metric: str) -> str:
    if row is None:
        return "–"
    d, lo, hi = (float(row[f"{metric}_{k}"]) for k in ("difference", "ci_low", "ci_high"))
    return f"{d:+.3f} ({lo:+.3f} to {hi:+.3f})"


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, subprocess.CalledProcessError, AttributeError):
        model = "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, CPU only"


def validation_of(runs: str, model: str) -> dict | None:
    name = {"kmer": "kmer-baseline", "cnn": "enhancernet-train", "ensemble": "model-ensemble"}.get(model)
    if name is None and model.startswith("cnn_x"):  # --replicates N: enhancernet-train_xN.json
        name = "enhancernet-train_" + model.split("_")[1]
    if name is None and model.startswith("dnabert2_s"):
        name = "dnabert2-finetune_" + model.split("_")[1]
    info = load(os.path.join(runs, f"{name}.json")) if name else None
    return (info or {}).get("validation")


def gc_validation(scores_tsv: str) -> dict:
    """ROC-AUC and PR-AUC on validation of the "gc" reference (bench_real_data.sh's gc_scores TSV)."""
    from enhancer_tools.metrics.binary import pr_auc, roc_auc

    with open(scores_tsv) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    labels, gc = [int(r["label"]) for r in rows], [float(r["p"]) for r in rows]
    return {"roc_auc": roc_auc(labels, gc), "pr_auc": pr_auc(labels, gc)}


def dataset_section(work: str, ds: str, seeds: list[str], verdicts: dict) -> list[str]:
    D = os.path.join(work, ds)
    metrics = load(os.path.join(D, "report", "metrics.json"))
    if metrics is None:
        return [f"## {NAMES.get(ds, ds)}", "", "not run (no report/metrics.json)", ""]
    comp = {}
    with open(os.path.join(D, "report", "comparison.tsv")) as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            comp[(row["model"], row["versus"])] = row
    split = {s: labels(os.path.join(D, "split", f"{s}.fa")) for s in ("train", "val", "test")}
    out = [f"## {NAMES.get(ds, ds)}", ""]
    out.append("Split sizes (positives): " + ", ".join(f"{s} {n} ({p})" for s, (n, p) in split.items()) + ".")
    out += prep_notes(D, ds)
    out += ["", "| model | val ROC-AUC | val PR-AUC | test ROC-AUC (95% CI) | test PR-AUC (95% CI) | "
            "Δ ROC-AUC vs k-mer (95% CI) | Δ PR-AUC vs k-mer (95% CI) | floor status |",
            "|---|---|---|---|---|---|---|---|"]
    models = metrics["models"]
    order = ["kmer", "cnn", *sorted(m for m in models if m.startswith("cnn_x"))] + [f"dnabert2_s{s}" for s in seeds] + ["ensemble"]
    for m in order + sorted(set(models) - set(order)):
        if m not in models:
            if m == "ensemble":
                out.append("| ensemble | – | – | – | – | – | – | not run (model-ensemble not installed) |")
            continue
        mm = models[m]
        val = (gc_validation(os.path.join(D, "runs", "gc-val.tsv")) if m == "gc" else
               validation_of(os.path.join(D, "runs"), m) or {})
        row = comp.get((m, "kmer"))
        status = "floor" if m == "kmer" else mm.get("floor_status", "–")
        out.append(f"| {m} | {ci(val.get('roc_auc'), None)} | {ci(val.get('pr_auc'), None)} | "
                   f"{ci(mm['roc_auc'], mm['ci95'].get('roc_auc'))} | {ci(mm['pr_auc'], mm['ci95'].get('pr_auc'))} | "
                   f"{'–' if m == 'kmer' else diff(row, 'roc_auc')} | {'–' if m == 'kmer' else diff(row, 'pr_auc')} | {status} |")
        if row is not None:
            verdicts["dnabert2" if m.startswith("dnabert2_s") else m].append(
                (ds if not m.startswith("dnabert2_s") else f"{ds} ({m.split('_')[1].replace('s', 'seed ')})",
                 float(row["roc_auc_difference"]), float(row["roc_auc_ci_low"]), float(row["roc_auc_ci_high"]),
                 float(row["pr_auc_difference"]), float(row["pr_auc_ci_low"]), float(row["pr_auc_ci_high"])))
    dn = [models[f"dnabert2_s{s}"] for s in seeds if f"dnabert2_s{s}" in models]
    if dn:
        vals = [validation_of(os.path.join(D, "runs"), f"dnabert2_s{s}") or {} for s in seeds]
        out.append(f"| dnabert2 (mean of {len(dn)} seeds) | {mean(v.get('roc_auc', 0) for v in vals):.3f} | "
                   f"{mean(v.get('pr_auc', 0) for v in vals):.3f} | {mean(m['roc_auc'] for m in dn):.3f} "
                   f"(seeds {min(m['roc_auc'] for m in dn):.3f}–{max(m['roc_auc'] for m in dn):.3f}) | "
                   f"{mean(m['pr_auc'] for m in dn):.3f} (seeds {min(m['pr_auc'] for m in dn):.3f}–"
                   f"{max(m['pr_auc'] for m in dn):.3f}) | | | |")
    best = open(os.path.join(D, "ensemble_dnabert2_seed")).read().strip() if os.path.exists(
        os.path.join(D, "ensemble_dnabert2_seed")) else "?"
    out += ["", f"Ensemble's DNABERT-2 member: seed {best} (best validation PR-AUC of the seeds)."]
    dj = load(os.path.join(D, "runs", f"dnabert2-finetune_s{seeds[0]}.json")) if seeds else None
    if dj:
        cfg = dj.get("train_config", {})
        settings = ", ".join(f"{k} {cfg[k]}" for k in ("max_tokens", "scheduler", "pooling", "learning_rate",
                                                       "warmup_ratio", "epochs", "patience") if k in cfg)
        out.append(f"DNABERT-2 settings in effect (dnabert2-finetune's --json train_config): {settings}.")
    out.append("")
    return out


def prep_notes(D: str, ds: str) -> list[str]:
    runs = os.path.join(D, "runs")
    notes = []
    dedup = load(os.path.join(runs, "fasta-rc-dedup.json"))
    if ds == "ienhancer2l" and dedup:
        c = dedup["counts"]
        notes.append(f"fasta-rc-dedup over train then test files: {c['duplicate_groups']} duplicate groups; "
                     f"{c['records_in'] - c['records_out']} test records equal to a training record were removed "
                     "(test 400 -> {}). Validation: 15% of the training files (dataset-split, seed 1).".format(
                         labels(os.path.join(D, "split", "test.fa"))[0]))
    if ds == "dnabert":
        notes.append("CSV -> labelled FASTA (awk: class enhancer -> 1, non-enhancer -> 0, region= from the "
                     "coordinate column); dataset-split 0.7/0.15/0.15, seed 1, class-stratified.")
    if ds == "yeast":
        w, b = load(os.path.join(runs, "bed-summit-window.json")), load(os.path.join(runs, "background-windows.json"))
        if w and b and dedup:
            notes.append(f"bed-summit-window 500 bp on the summit, chrM excluded: {w['counts']['windows_written']} of "
                         f"{w['counts']['peaks_read']} peaks ({w['counts']['rejects_by_reason']}); background-windows "
                         f"GC-matched 1:1: {b['counts']['windows_written']} windows (shortfall {b['counts']['shortfall']}); "
                         f"fasta-rc-dedup: {dedup['counts']['records_in']} -> {dedup['counts']['records_out']} records; "
                         "dataset-split --holdout-chroms val=chrIV test=chrVII,chrXV (all other chromosomes train).")
    audit = load(os.path.join(runs, "audit.json"))
    if audit is not None:
        notes.append("Final train/val/test audited with `dataset-split --check --strict`: no shared sequence.")
    return ["", *[f"- {n}" for n in notes]] if notes else []


def _tag(d: float, lo: float, hi: float) -> str:
    if lo > 0:
        return "clearly above"
    if hi < 0:
        return "clearly below"
    return "at, point above" if d >= 0 else "at, point below"


FLOOR_RULE = ("At the floor = the 95% paired-bootstrap interval of the difference contains 0 (not measurably above "
              "or below; the sign of the point difference is given too); clearly above / below = the whole interval "
              "above / below 0. Issue 18's target for the CNN and the ensemble, read this way on ROC-AUC: at or "
              "clearly above the floor on every set, and clearly above it on at least one.")


def target_status(rows: list) -> str:
    """Issue 18's target on ROC-AUC for one model's (set, d, lo, hi, ...) rows."""
    below = [row[0] for row in rows if row[3] < 0]
    above = [row[0] for row in rows if row[2] > 0]
    if below:
        return "target not met: clearly below on " + ", ".join(below)
    if not above:
        return "target not met: clearly above on no set"
    points = [row[0] for row in rows if row[1] < 0]
    return ("target met: clearly above on " + ", ".join(above)
            + (f"; point below (within the interval) on {', '.join(points)}" if points else ""))


def verdict_lines(verdicts: dict) -> list[str]:
    out = ["## Against the k-mer floor (issue 18 target)", "", FLOOR_RULE, ""]
    for m in ("cnn", *sorted(m for m in verdicts if m.startswith("cnn_x")), "ensemble", "dnabert2", "gc"):
        rows = verdicts.get(m)
        if not rows:
            out.append(f"- {m}: not run.")
            continue
        parts = []
        for ds, d, lo, hi, dp, plo, phi in rows:
            parts.append(f"{ds} ΔROC {d:+.3f} ({_tag(d, lo, hi)}) / ΔPR {dp:+.3f} ({_tag(dp, plo, phi)})")
        status = f" **{target_status(rows)}.**" if m in ("cnn", "ensemble") else ""
        out.append(f"- {m}: " + "; ".join(parts) + "." + status)
    return out + [""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--datasets", default="ienhancer2l dnabert yeast")
    ap.add_argument("--seeds", default="1 2 3")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--cnn-opts", default="")
    ap.add_argument("--kmer-opts", default="")
    ap.add_argument("--dnabert-opts", default="")
    ap.add_argument("--bpe-vocab", default="")
    ap.add_argument("--existing", default="")
    args = ap.parse_args()
    work, datasets, seeds = args.work, args.datasets.split(), args.seeds.split()
    wall = open(os.path.join(work, "wall_seconds")).read().strip() if os.path.exists(os.path.join(work, "wall_seconds")) else "?"
    load_avg = open(os.path.join(work, "loadavg")).read().strip() if os.path.exists(os.path.join(work, "loadavg")) else "?"
    finished = os.path.join(work, "finished")
    now = (open(finished).read().strip() if os.path.exists(finished)
           else datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    out = ["# Three open real datasets end to end: k-mer floor, EnhancerNet CNN, tiny DNABERT-2, ensemble (issue 18)", "",
           "Script: `bash benchmarks/bench_real_data.sh` (the project's console scripts only, plus awk for the FASTA "
           "headers and the CSV; this file is written by `benchmarks/real_data_table.py`). Data: `../shared/data/` "
           "(see its README). Knobs: `WORK`, `DATASETS`, `SEEDS`, `THREADS`, `BOOTSTRAP`, `CNN_OPTS`, `CNN_REPLICATES`, `KMER_OPTS`, "
           "`DNABERT_OPTS`, `BPE_VOCAB`.", "",
           f"Run finished {now} on {machine()}; `--threads {args.threads}` for every trainer; "
           f"total wall time {wall} s; load average at the end {load_avg} (a shared machine: other people's "
           "training jobs ran at the same time, so wall times vary).", "",
           "Models and options:", "",
           f"- k-mer floor: `kmer-baseline {args.kmer_opts}` (k = 3-6 counts, logistic regression, C chosen on validation).",
           f"- CNN: `enhancernet-train {args.cnn_opts or '(its defaults)'}` (width = longest training sequence; "
           "the defaults train 3 replicate networks apart, seeds 1-3, and average their log-odds); cnn_xN: the same "
           "with `--replicates N` (cnn_x1: one network, the default before issue 18's last change).",
           f"- tiny DNABERT-2: `bpe-train --vocab-size {args.bpe_vocab}` on the train split, then `dnabert2-finetune "
           f"--init tiny {args.dnabert_opts} --max-length <bpe-train's recommended_max_length>` for seeds "
           f"{', '.join(seeds)} (the options of scripts/run-demo.sh).",
           "- ensemble: `model-ensemble --member DNABERT2 --member CNN --member KMER --val val.fa` (fitted on validation).",
           "- gc (a reference, not a model: nothing is trained): each sequence's G+C fraction as its score, on "
           "validation and test; how far composition alone goes on the set.",
           "- test: `score-regions` on the test split, `report --floor kmer --bootstrap 1000` (95% percentile intervals; "
           "Δ = paired bootstrap difference to the k-mer floor on the same resamples).", "",
           "**Choices made on validation only** (the test splits were read by score-regions alone): best epoch (early "
           "stopping on validation PR-AUC), the k-mer C, every threshold and temperature, the ensemble's fit, the "
           "DNABERT-2 seed used in the ensemble, and the CNN defaults (section below, validation runs only). "
           "Fixed before any run, not tuned: split fractions and seeds, the yeast window width (500 bp: the "
           "accessible regions have a median width of 150 bp, and yeast intergenic regions are short, so 1 kb "
           "windows would mostly hold flanking genes) and its hold-out chromosomes.", ""]
    verdicts: dict = defaultdict(list)
    for ds in datasets:
        out += dataset_section(work, ds, seeds, verdicts)
    out += verdict_lines(verdicts)
    out += ["## Reading (hand-written; kept when the tables are regenerated, so check it against them)", "",
            NOTES_BEGIN, kept(args.existing, NOTES_BEGIN, NOTES_END) or "(no notes yet)", NOTES_END, ""]
    out += ["## CNN defaults chosen on validation (issue 18, part 2)", "",
            "`python benchmarks/real_data_cnn_select.py WORK --candidates NAME,... --seeds 1,2,3` on the splits of "
            "`STAGE=prep bash benchmarks/bench_real_data.sh` (validation only; the test splits are not read).", "",
            SELECT_BEGIN]
    sel = os.path.join(work, "cnn_selection.tsv")
    if os.path.exists(sel):
        out.append(real_data_cnn_select.markdown(real_data_cnn_select.read(sel)))
    else:
        out.append(kept(args.existing, SELECT_BEGIN, SELECT_END) or "(no selection runs in this work folder)")
    out += [SELECT_END, ""]
    steps = defaultdict(dict)
    if os.path.exists(os.path.join(work, "steps.tsv")):
        for line in open(os.path.join(work, "steps.tsv")):
            ds, name, sec = line.rstrip("\n").split("\t")
            steps[ds][name] = float(sec)
    out += ["## Wall time per step (seconds)", "", "| dataset | step | s |", "|---|---|---:|"]
    for ds, st in steps.items():
        for name, sec in st.items():
            out.append(f"| {ds} | {name} | {sec:.1f} |")
        out.append(f"| {ds} | **total** | {sum(st.values()):.1f} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
