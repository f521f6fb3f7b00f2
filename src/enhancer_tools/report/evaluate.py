"""Evaluate several models on the same labelled ids: point metrics, bootstrap intervals, paired
comparisons, and the k-mer floor check; write metrics.tsv, comparison.tsv and metrics.json."""

from __future__ import annotations

import itertools
import json
import os
import re
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.report.bootstrap import BOOTSTRAP_METRICS, bootstrap_distributions, paired_difference, percentile_ci
from enhancer_tools.report.metrics import curves, point_metrics

COMPARED_METRICS = ("pr_auc", "roc_auc")
METRIC_COLUMNS = (
    "n", "n_positive", "pr_auc", "roc_auc", "best_f1", "best_f1_threshold", "precision", "recall", "f1",
    "accuracy", "mcc", "tp", "fp", "tn", "fn", "ece",
)


def find_floor(names: list[str], floor: str | None) -> str | None:
    """The k-mer floor model: ``--floor NAME``, else the one scores name that starts with 'kmer'
    (case and punctuation ignored: kmer, k-mer, KMER_baseline ...), else none."""
    if floor is not None:
        if floor not in names:
            raise UserError(f"--floor {floor!r} is not one of the --scores names ({', '.join(names)})")
        return floor
    candidates = [n for n in names if re.sub(r"[^a-z0-9]", "", n.lower()).startswith("kmer")]
    if len(candidates) > 1:
        raise UserError(f"several scores names look like the k-mer floor ({', '.join(candidates)}); choose one with --floor")
    return candidates[0] if candidates else None


def _floor_status(comparison: dict[str, Any]) -> str:
    deltas = [comparison[m]["difference"] for m in COMPARED_METRICS]
    if any(d <= 0 for d in deltas):
        return "does not beat k-mer floor"
    if all(comparison[m]["ci_low"] > 0 for m in COMPARED_METRICS):
        return "beats k-mer floor"
    return "above k-mer floor, not significant"


def evaluate(models, n_boot: int, seed: int, floor: str | None) -> dict[str, Any]:
    """Everything the report shows about the models (ModelScores paired by id)."""
    result: dict[str, Any] = {
        "n_bootstrap": n_boot, "seed": seed, "floor": floor, "models": {}, "comparisons": [], "curves": {},
    }
    for m in models:
        result["models"][m.name] = {"scores": m.path, "threshold_source": m.call_source, **point_metrics(m.label, m.p, m.call)}
        result["curves"][m.name] = curves(m.label, m.p)
    boot = bootstrap_distributions(models, n_boot, seed) if n_boot > 0 else None
    if boot is not None:
        for name, per in boot.items():
            result["models"][name]["ci95"] = {k: list(percentile_ci(per[k])) for k in BOOTSTRAP_METRICS}
    pairs = list(itertools.combinations([m.name for m in models], 2))
    if floor is not None:  # the floor always second, so differences read "model minus floor"
        pairs = [(b, a) if a == floor else (a, b) for a, b in pairs]
    for a, b in pairs:
        entry: dict[str, Any] = {"model": a, "versus": b}
        for metric in COMPARED_METRICS:
            diff = result["models"][a][metric] - result["models"][b][metric]
            test = paired_difference(boot[a][metric], boot[b][metric]) if boot is not None else {}
            entry[metric] = {"difference": diff, **test}
        result["comparisons"].append(entry)
        if b == floor and boot is not None:
            result["models"][a]["floor_status"] = _floor_status(entry)
        elif b == floor:
            deltas = [entry[m]["difference"] for m in COMPARED_METRICS]
            result["models"][a]["floor_status"] = "does not beat k-mer floor" if min(deltas) <= 0 else "above k-mer floor (no bootstrap)"
    if floor is not None:
        result["models"][floor]["floor_status"] = "k-mer floor"
    return result


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _open(out_dir: str, name: str):
    return open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n")


def write_tables(result: dict[str, Any], out_dir: str) -> None:
    """metrics.tsv (one row per model), comparison.tsv (one row per pair of models) and
    metrics.json (everything, with the thinned curves) into ``out_dir``."""
    ci_cols = [f"{k}_ci_{side}" for k in BOOTSTRAP_METRICS for side in ("low", "high")] if result["n_bootstrap"] else []
    header = ["model", *METRIC_COLUMNS, *ci_cols, "threshold_source", "floor_status"]
    with _open(out_dir, "metrics.tsv") as fh:
        fh.write("\t".join(header) + "\n")
        for name, m in result["models"].items():
            ci = m.get("ci95", {})
            row = [name, *(m[c] for c in METRIC_COLUMNS)]
            row += [ci[k][i] for k in BOOTSTRAP_METRICS for i in (0, 1)] if ci_cols else []
            row += [m["threshold_source"], m.get("floor_status", "")]
            fh.write("\t".join(_fmt(v) for v in row) + "\n")
    with _open(out_dir, "comparison.tsv") as fh:
        cols = [f"{metric}_{k}" for metric in COMPARED_METRICS for k in ("difference", "ci_low", "ci_high", "p_value")]
        fh.write("\t".join(["model", "versus", *cols]) + "\n")
        for c in result["comparisons"]:
            values = [c[metric].get(k, "") for metric in COMPARED_METRICS for k in ("difference", "ci_low", "ci_high", "p_value")]
            fh.write("\t".join(_fmt(v) for v in [c["model"], c["versus"], *values]) + "\n")
    with _open(out_dir, "metrics.json") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
