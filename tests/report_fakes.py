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
        "python": "3.11.7", "platform": "Linux",
        "versions": {"click": "8.5.1", "numpy": "2.4.6", "torch": "2.13.0+cpu", "optuna": "5.0.0", "pybedtools": None},
    }


def _split_audit() -> dict:
    """dataset-split's ``audit`` (one leaking reverse complement between train and test)."""
    def split(records: int, zeros: int) -> dict:
        ones = records - zeros
        return {"records": records, "per_class": {"1": ones, "0": zeros},
                "class_fractions": {"1": ones / records, "0": zeros / records}, "duplicates_within": 0}

    pairs = (("train", "val", 0), ("train", "test", 1), ("val", "test", 0))
    return {"splits": {"train": split(1435, 718), "val": split(307, 154), "test": split(308, 154)},
            "overlaps": [{"earlier": a, "later": b, "exact": 0, "reverse_complement": rc, "label_disagreements": 0}
                         for a, b, rc in pairs],
            "leaking_records": 1}


def _trainer(tool: str, kind: str, pr_auc: float, optuna: dict | None = None) -> dict:
    """A trainer's run info (enhancernet-train's shape; dnabert2-finetune writes the same keys)."""
    epochs = [{"epoch": float(e), "step": 27 * e, "train_loss": 0.7 - 0.1 * e, "learning_rate": 0.002 / e,
               "val_roc_auc": 0.62 + 0.05 * e, "val_pr_auc": 0.6 + 0.05 * e, "val_best_f1": 0.6 + 0.04 * e,
               "val_threshold": 0.4, "val_loss": 0.68 - 0.08 * e, "val_n": 307, "val_n_positive": 153}
              for e in range(1, 5)]
    return _runinfo(tool, {"train_sequences": 1435, "train_positive": 717, "val_sequences": 307, "val_positive": 153},
                    validation={"roc_auc": pr_auc + 0.01, "pr_auc": pr_auc, "best_f1": 0.78, "threshold": 0.36,
                                "loss": 0.45, "n": 307, "n_positive": 153},
                    calibration={"temperature": 1.05, "threshold": 0.36, "chosen_on": "validation"},
                    epochs=epochs, best_epoch=4.0, stopped_early=False, hyperparameters={"learning_rate": 0.002},
                    optuna=optuna, model={"kind": kind, "device": "cpu", "world_size": 1})


def _optuna_summary() -> dict:
    """``optuna`` as the trainers write it with --trials (hpo.study_summary)."""
    trials = [{"number": 0, "state": "COMPLETE", "value": 0.81, "params": {"learning_rate": 1e-5, "batch_size": 32},
               "duration_seconds": 80.2, "worker": "host:1", "last_step": 1},
              {"number": 1, "state": "COMPLETE", "value": 0.85, "params": {"learning_rate": 3e-5, "batch_size": 64},
               "duration_seconds": 79.5, "worker": "host:1", "last_step": 1},
              {"number": 2, "state": "PRUNED", "value": None, "params": {"learning_rate": 1e-3, "batch_size": 32},
               "duration_seconds": 20.1, "worker": "host:1", "last_step": 0}]
    return {"study_name": "s", "direction": "maximize", "objective": "validation pr_auc", "n_trials": 3,
            "n_complete": 2, "n_pruned": 1, "trials": trials, "best_trial": 1, "best_value": 0.85,
            "best_params": {"learning_rate": 3e-5, "batch_size": 64}, "param_importances": None, "saved_trial": 1}


def write_run_infos(folder: Path) -> list[Path]:
    """One run-info JSON per tool, trimmed copies of the shapes the real tools write."""
    folder.mkdir(parents=True, exist_ok=True)
    gc_edges = [round(0.2 + 0.05 * i, 2) for i in range(11)]
    infos = {
        "windows.json": _runinfo("bed-summit-window", {
            "peaks_read": 1200, "windows_written": 1100, "rejected": 100,
            "rejects_by_reason": {"off_chromosome_end": 60, "too_many_n": 30, "duplicate_window": 10},
            "windows_clipped": 0, "windows_shifted": 0, "windows_reverse_complemented": 0}),
        "background.json": _runinfo("background-windows", {
            "like_sequences": 1100, "windows_requested": 1100, "windows_written": 1100, "shortfall": 0,
            "candidates_drawn": 9000, "candidates_overlapping_excluded": 4000, "candidates_n_rich": 100},
            gc_histogram={"bin_edges": gc_edges, "like": [1, 5, 20, 60, 120, 200, 150, 80, 30, 8],
                          "genome_candidates": [30, 60, 90, 130, 160, 150, 110, 70, 40, 20],
                          "background": [1, 6, 19, 61, 118, 202, 149, 81, 29, 9], "shortfall": [0] * 10}),
        "dedup.json": _runinfo("fasta-rc-dedup", {
            "records_in": 2200, "duplicate_groups": 140, "exact_duplicates_within_file": 60,
            "exact_duplicates_across_files": 30, "revcomp_duplicates_within_file": 40,
            "revcomp_duplicates_across_files": 15, "label_conflict_groups": 5, "records_dropped_for_conflicts": 10,
            "records_out": 2050}, labels=["1", "0"]),
        "split.json": _runinfo("dataset-split", {
            "train_records": 1435, "train_per_class": {"1": 717, "0": 718}, "val_records": 307,
            "val_per_class": {"1": 153, "0": 154}, "test_records": 308, "test_per_class": {"1": 154, "0": 154},
            "duplicate_groups": 0}, audit=_split_audit()),
        "bpe.json": _runinfo("bpe-train", {"sequences": 1435, "bases": 1435000, "non_acgt_bases": 0,
                                           "training_sequences": 1435},
                             bpe={"input_sequences": 1435, "training_sequences": 1435, "sampled": False, "seed": 1,
                                  "vocab_size_requested": 4096, "vocab_size": 4096, "train_seconds": 7.5},
                             timings={"sample_and_train_seconds": 7.5, "length_stats_seconds": 1.7},
                             tokenizer={"path": "tokenizer.json", "model": "BPE", "vocab_size": 4096,
                                        "special_ids": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4},
                                        "merges": 4087, "longest_token_bp": 20},
                             token_lengths={
                                 "sequences": 1435, "bases": 1435000, "non_acgt_bases": 0, "tokens": 294175,
                                 "tokens_per_sequence": {"min": 180, "median": 205, "p95": 221, "p99": 226,
                                                         "p99_9": 229, "max": 231, "mean": 205.0},
                                 "bp_per_token": 4.87, "tokens_per_kb": 205.0, "specials_per_sequence": 2,
                                 "recommended_max_length": 232, "max_length": 232, "max_length_given": True,
                                 "truncated_sequences": 0, "truncated_fraction": 0.0,
                                 "histogram": {"bin_width": 10, "bin_start": [180, 190, 200, 210, 220, 230],
                                               "count": [20, 300, 600, 400, 100, 15]}}),
        "cnn_train.json": _trainer("enhancernet-train", "enhancernet", 0.79),
        "dnabert2_train.json": _trainer("dnabert2-finetune", "dnabert2", 0.85, _optuna_summary()),
        "kmer_train.json": _runinfo("kmer-baseline", {"train_sequences": 1435, "train_positive": 717},
                                    validation={"roc_auc": 0.7, "pr_auc": 0.68, "best_f1": 0.66, "threshold": 0.5,
                                                "loss": 0.6, "n": 307, "n_positive": 153},
                                    regularisation=[{"C": 0.01, "val_pr_auc": 0.66, "val_roc_auc": 0.69}],
                                    hyperparameters={"k": [3, 4, 5, 6], "C": 0.01}, model={"kind": "kmer"}),
    }
    paths = []
    for name, data in infos.items():
        (folder / name).write_text(json.dumps(data, indent=1))
        paths.append(folder / name)
    (folder / "not_runinfo.json").write_text(json.dumps({"something": "else"}))
    return paths
