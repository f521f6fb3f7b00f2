"""Fake but realistic inputs for the report tests: scores TSVs of several models on one labelled
set, and run-info JSONs shaped like each tool's --json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SCORES_HEADER = "id\tchrom\tstart\tend\tp_forward\tp_reverse\tp\tcall\tlabel\n"


def make_labels(n: int = 400, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, n)


def make_scores(label: np.ndarray, separation: float, seed: int) -> np.ndarray:
    """Scores in [0, 1] that separate the classes by roughly ``separation``."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(0.0, 1.0, label.size) + separation * (2 * label - 1)
    return 1.0 / (1.0 + np.exp(-logit))


def write_scores(path: Path, label: np.ndarray, p: np.ndarray, threshold: float = 0.5, order=None) -> Path:
    rows = range(label.size) if order is None else order
    with open(path, "w") as fh:
        fh.write(SCORES_HEADER)
        for i in rows:
            start = 1000 * i
            pf = min(1.0, p[i] + 0.01)
            fh.write(f"seq{i}\tchr1\t{start}\t{start + 1000}\t{pf:.6f}\t{p[i]:.6f}\t{p[i]:.6f}\t{int(p[i] >= threshold)}\t{label[i]}\n")
    return path


def write_models(folder: Path, n: int = 400) -> dict[str, Path]:
    """Three models on the same ids: a good one, a middling one, and a weak k-mer floor."""
    label = make_labels(n)
    paths = {}
    rng = np.random.default_rng(5)
    for name, sep, seed in (("DNABERT2", 1.2, 1), ("CNN", 0.9, 2), ("kmer", 0.5, 3)):
        order = rng.permutation(n) if name == "CNN" else None  # pairing must not depend on row order
        paths[name] = write_scores(folder / f"{name}.scores.tsv", label, make_scores(label, sep, seed), 0.4, order)
    return paths


def _runinfo(tool: str, counts: dict, **extra) -> dict:
    return {
        "schema_version": 1, "tool": tool, "version": "0.1.0", "command_line": [tool, "--json", "x.json"],
        "parameters": {"seed": 1}, "inputs": {"input": {"path": "in.fa", "sha256": "0" * 64, "bytes": 10}},
        "outputs": {}, "counts": counts, **extra, "started": "2025-01-01T00:00:00+00:00", "elapsed_seconds": 1.5,
        "python": "3.12.3", "platform": "Linux", "versions": {"numpy": "2.1.0", "torch": "2.13.0", "optuna": None},
    }


def write_run_infos(folder: Path) -> list[Path]:
    """One run-info JSON per tool, in the shapes the tools' issues describe."""
    folder.mkdir(parents=True, exist_ok=True)
    gc_edges = [round(0.2 + 0.05 * i, 2) for i in range(11)]
    epochs = [{"epoch": e, "train_loss": 0.7 - 0.1 * e, "val_loss": 0.68 - 0.08 * e, "pr_auc": 0.6 + 0.05 * e,
               "roc_auc": 0.62 + 0.05 * e} for e in range(1, 5)]
    infos = {
        "windows.json": _runinfo("bed-summit-window", {"peaks_read": 1200, "windows_written": 1100, "rejected": 100},
                                 rejects_by_reason={"off_chromosome_end": 60, "too_many_n": 30, "duplicate_window": 10}),
        "background.json": _runinfo("background-windows", {"windows_written": 1100},
                                    gc_histogram={"bin_edges": gc_edges, "like": [1, 5, 20, 60, 120, 200, 150, 80, 30, 8],
                                                  "before": [30, 60, 90, 130, 160, 150, 110, 70, 40, 20],
                                                  "after": [1, 6, 19, 61, 118, 202, 149, 81, 29, 9]}),
        "dedup.json": _runinfo("fasta-rc-dedup", {"records_read": 2200, "written": 2050, "exact_duplicates": 90,
                                                  "rc_duplicates": 55, "label_conflicts": 5}),
        "split.json": _runinfo("dataset-split", {"records": 2050},
                               splits={"train": {"records": 1435, "classes": {"0": 718, "1": 717}},
                                       "val": {"records": 307, "classes": {"0": 154, "1": 153}},
                                       "test": {"records": 308, "classes": {"0": 154, "1": 154}}},
                               leakage={"exact": 0, "reverse_complement": 0, "near_duplicate": 0, "ok": True}),
        "bpe.json": _runinfo("bpe-train", {"sequences": 1435},
                             tokens_per_sequence={"min": 180, "median": 205, "p95": 221, "p99": 226, "p99.9": 229, "max": 231},
                             bp_per_token=4.87, recommended_max_length=232,
                             token_length_histogram={"bin_edges": [180, 190, 200, 210, 220, 230, 240], "counts": [20, 300, 600, 400, 100, 15]}),
        "cnn_train.json": _runinfo("enhancernet-train", {"train": 1435, "val": 307},
                                   validation={"roc_auc": 0.81, "pr_auc": 0.79, "best_f1": 0.74, "threshold": 0.41, "loss": 0.52},
                                   epochs=epochs),
        "dnabert2_train.json": _runinfo("dnabert2-finetune", {"train": 1435, "val": 307},
                                        validation={"roc_auc": 0.86, "pr_auc": 0.85, "best_f1": 0.78, "threshold": 0.36, "loss": 0.45},
                                        epochs=epochs,
                                        optuna={"best_params": {"learning_rate": 3e-5}, "trials": [
                                            {"number": 0, "value": 0.81, "state": "COMPLETE", "params": {"learning_rate": 1e-5, "batch_size": 32}},
                                            {"number": 1, "value": 0.85, "state": "COMPLETE", "params": {"learning_rate": 3e-5, "batch_size": 64}},
                                            {"number": 2, "value": None, "state": "PRUNED", "params": {"learning_rate": 1e-3, "batch_size": 32}}]}),
        "kmer_train.json": _runinfo("kmer-baseline", {"train": 1435}, validation={"roc_auc": 0.7, "pr_auc": 0.68, "best_f1": 0.66, "threshold": 0.5}),
    }
    paths = []
    for name, data in infos.items():
        (folder / name).write_text(json.dumps(data, indent=1))
        paths.append(folder / name)
    (folder / "not_runinfo.json").write_text(json.dumps({"something": "else"}))
    return paths
