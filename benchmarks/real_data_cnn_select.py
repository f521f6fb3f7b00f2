"""Choose EnhancerNet's defaults on VALIDATION only (issue 18, part 2).

Trains enhancernet-train (the console script) with each candidate's options on the train/val
splits that ``STAGE=prep bash benchmarks/bench_real_data.sh`` prepared, for each seed, and
records the validation ROC-AUC / PR-AUC the tool reports (its --json). The test splits are not
read. Results accumulate in WORK/cnn_selection.tsv (runs already there are skipped), and
``--markdown`` prints the summary table that benchmarks/results/real-data.md embeds.

    python benchmarks/real_data_cnn_select.py WORK --candidates base,shift10 --seeds 1,2
    python benchmarks/real_data_cnn_select.py WORK --markdown
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from statistics import mean

# Candidate name -> extra enhancernet-train options. "old" pins the defaults before issue 18,
# so that the table stays meaningful after the defaults change.
OLD = "--epochs 15 --patience 4 --base-channels 32 --shift 0 --dropout 0.3 --learning-rate 0.002"
CANDIDATES = {
    "old": OLD,
    "shift10": OLD + " --shift 10",
    "shift20": OLD + " --shift 20",
    "wide64": OLD + " --base-channels 64",
    "long30": OLD + " --epochs 30 --patience 6",
    "drop0.5": OLD + " --dropout 0.5",
    "lr1e-3": OLD + " --learning-rate 0.001",
    "shift10+wide64": OLD + " --shift 10 --base-channels 64",
    "shift10+long30": OLD + " --shift 10 --epochs 30 --patience 6",
    "shift10+wide64+long30": OLD + " --shift 10 --base-channels 64 --epochs 30 --patience 6",
    "shift20+long30": OLD + " --shift 20 --epochs 30 --patience 6",
    "shift20+long30+wide64": OLD + " --shift 20 --epochs 30 --patience 6 --base-channels 64",
    "default": "",  # the tool's current defaults
}
DATASETS = ["ienhancer2l", "dnabert", "yeast"]
FIELDS = ["candidate", "dataset", "seed", "val_roc_auc", "val_pr_auc", "best_epoch", "epochs_run", "train_seconds",
          "options"]


def run(work: str, candidate: str, dataset: str, seed: int, bin_dir: str, threads: int) -> dict:
    split = os.path.join(work, dataset, "split")
    out = os.path.join(work, "cnn_select", f"{candidate}_{dataset}_s{seed}")
    cmd = [os.path.join(bin_dir, "enhancernet-train"), "--train", f"{split}/train.fa", "--val", f"{split}/val.fa",
           "-o", out, "--force", *shlex.split(CANDIDATES[candidate]), "--device", "cpu", "--threads", str(threads),
           "--seed", str(seed), "--quiet", "--json", out + ".json"]
    subprocess.run(cmd, check=True)
    info = json.load(open(out + ".json"))
    return {"candidate": candidate, "dataset": dataset, "seed": seed,
            "val_roc_auc": f"{info['validation']['roc_auc']:.4f}", "val_pr_auc": f"{info['validation']['pr_auc']:.4f}",
            "best_epoch": info["best_epoch"], "epochs_run": len(info["epochs"]),
            "train_seconds": f"{info['train_seconds']:.1f}", "options": CANDIDATES[candidate] or "(defaults)"}


def read(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _options(candidate: str) -> str:
    opts = CANDIDATES[candidate]
    if candidate == "old":
        return f"`{OLD}` (the defaults before issue 18)"
    if opts.startswith(OLD):
        return f"old + `{opts[len(OLD):].strip()}`"
    return f"`{opts}`" if opts else "the tool's defaults now"


def markdown(rows: list[dict]) -> str:
    by = defaultdict(list)
    for r in rows:
        by[(r["candidate"], r["dataset"])].append(r)
    names = [c for c in CANDIDATES if any(k[0] == c for k in by)]
    seeds = sorted({r["seed"] for r in rows})
    lines = [f"Validation ROC-AUC / PR-AUC, mean over seeds {', '.join(seeds)} (each run's best epoch by "
             "validation PR-AUC, as enhancernet-train keeps it); mean s = training seconds per run, on a shared "
             "machine whose load varied between runs (roughly comparable only).", "",
             "| candidate | options | " + " | ".join(f"{d} ROC / PR" for d in DATASETS) + " | mean ROC-AUC | mean PR-AUC | mean s |",
             "|---|---|" + "---|" * len(DATASETS) + "---:|---:|---:|"]
    for c in names:
        cells, rocs, prs, secs = [], [], [], []
        for d in DATASETS:
            rs = by.get((c, d), [])
            if not rs:
                cells.append("–")
                continue
            roc, pr = mean(float(r["val_roc_auc"]) for r in rs), mean(float(r["val_pr_auc"]) for r in rs)
            rocs.append(roc), prs.append(pr), secs.extend(float(r["train_seconds"]) for r in rs)
            cells.append(f"{roc:.3f} / {pr:.3f} (n={len(rs)})")
        full = len(rocs) == len(DATASETS)
        lines.append(f"| {c} | {_options(c)} | " + " | ".join(cells) +
                     f" | {mean(rocs):.3f}{'' if full else '*'} | {mean(prs):.3f}{'' if full else '*'} | {mean(secs):.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work")
    ap.add_argument("--candidates", default="")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--bin", default=".venv/bin")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    path = os.path.join(args.work, "cnn_selection.tsv")
    rows = read(path)
    if args.markdown:
        print(markdown(rows))
        return
    done = {(r["candidate"], r["dataset"], r["seed"]) for r in rows}
    for c in filter(None, args.candidates.split(",")):
        for seed in map(int, args.seeds.split(",")):
            for d in args.datasets.split(","):
                if (c, d, str(seed)) in done:
                    continue
                t0 = time.time()
                row = run(args.work, c, d, seed, args.bin, args.threads)
                new = not os.path.exists(path)
                with open(path, "a", newline="") as fh:
                    w = csv.DictWriter(fh, FIELDS, delimiter="\t")
                    if new:
                        w.writeheader()
                    w.writerow(row)
                print(f"{c} {d} s{seed}: val ROC {row['val_roc_auc']} PR {row['val_pr_auc']} "
                      f"best epoch {row['best_epoch']}/{row['epochs_run']} ({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
