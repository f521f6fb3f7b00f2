"""MultiQC custom-content files for the report, and the MultiQC run itself.

We use custom content (``*_mqc.json`` with explicit ids, ``*_mqc_versions.yml``) rather than a
plugin: it needs no entry point or installed module, so the same files give the same sections
when ``report`` runs MultiQC as a library and when a user runs ``multiqc .`` on a folder that
holds REPORT_DIR. Each section is one file; sections with no data are not written.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from enhancer_tools.report import run_stats as rs

log = logging.getLogger(__name__)

CONTENT_DIR = "multiqc_content"
GROUPS = {
    "evaluation": ("enhancer-tools: model evaluation", "Held-out metrics of each model, with bootstrap 95% intervals."),
    "data": ("enhancer-tools: data preparation", "Windows, rejects, duplicates, splits and token lengths."),
    "training": ("enhancer-tools: training", "Validation metrics, training curves and hyperparameter search."),
    "runs": ("enhancer-tools: tool runs", "Every run-info JSON found: tool, version and run time."),
}
SECTION_ORDER = (
    "enhancer_tools_metrics", "enhancer_tools_comparison", "enhancer_tools_pr_curves", "enhancer_tools_roc_curves",
    "enhancer_tools_calibration", "enhancer_tools_score_histograms",
    "enhancer_tools_windows", "enhancer_tools_rejects", "enhancer_tools_gc_histograms", "enhancer_tools_duplicates",
    "enhancer_tools_split_balance", "enhancer_tools_leakage", "enhancer_tools_token_stats",
    "enhancer_tools_token_histogram",
    "enhancer_tools_validation", "enhancer_tools_training_curves", "enhancer_tools_optuna_trials",
    "enhancer_tools_pretraining", "enhancer_tools_pretraining_curve",
    "enhancer_tools_optuna_table", "enhancer_tools_runs",
)
_UNIT = {"min": 0, "max": 1, "format": "{:,.3f}", "scale": "RdYlGn"}


def _section(key: str, name: str, group: str, plot_type: str, data: Any, description: str = "",
             pconfig: dict | None = None, **extra) -> dict[str, Any]:
    section_id = f"enhancer_tools_{key}"
    parent_name, parent_description = GROUPS[group]
    return {
        "id": section_id,
        "section_name": name,
        "description": description,
        "parent_id": f"enhancer_tools_{group}",
        "parent_name": parent_name,
        "parent_description": parent_description,
        "plot_type": plot_type,
        "pconfig": {"id": f"{section_id}_plot", "title": f"enhancer-tools: {name}",
                    # series are told apart by a legend, not only by hovering
                    **({"showlegend": True} if plot_type == "linegraph" else {}), **(pconfig or {})},
        "data": data,
        **extra,
    }


def _ci(interval) -> str:
    return f"{interval[0]:.3f}–{interval[1]:.3f}" if interval else ""


def _xy(xs, ys, digits: int = 4) -> dict[str, float]:
    return {f"{x:.{digits}g}" if isinstance(x, float) else str(x): round(float(y), 6) for x, y in zip(xs, ys)}


def evaluation_sections(result: dict[str, Any], histograms: dict[str, dict[str, dict[str, int]]]) -> list[dict]:
    """Sections of the model evaluation: metrics table, comparison, curves, calibration, histograms."""
    sections = [_metrics_section(result)]
    if result["comparisons"]:
        sections.append(_comparison_section(result))
    return sections + _curve_sections(result["curves"], histograms)


def _metrics_section(result: dict[str, Any]) -> dict:
    table = {}
    for name, m in result["models"].items():
        ci = m.get("ci95", {})
        row = {k: m[k] for k in ("pr_auc", "roc_auc", "best_f1", "best_f1_threshold", "precision", "recall", "f1",
                                 "accuracy", "mcc", "ece", "tp", "fp", "tn", "fn", "n")}
        if ci:
            row.update({"pr_auc_ci": _ci(ci["pr_auc"]), "roc_auc_ci": _ci(ci["roc_auc"]), "f1_ci": _ci(ci["f1"])})
        if "floor_status" in m:
            row["floor_status"] = m["floor_status"]
        table[name] = row
    headers = {
        "pr_auc": {"title": "PR-AUC", "description": "Average precision", **_UNIT},
        "pr_auc_ci": {"title": "PR-AUC 95% CI", "description": "Percentile bootstrap interval"},
        "roc_auc": {"title": "ROC-AUC", **_UNIT},
        "roc_auc_ci": {"title": "ROC-AUC 95% CI"},
        "best_f1": {"title": "Best F1", "description": "Best F1 over all thresholds of this set (optimistic)", **_UNIT},
        "best_f1_threshold": {"title": "Best-F1 threshold", "description": "Chosen on this set: optimistic", "format": "{:,.3f}"},
        "precision": {"title": "Precision", "description": "At the model's own (validation) threshold", **_UNIT},
        "recall": {"title": "Recall", "description": "At the model's own (validation) threshold", **_UNIT},
        "f1": {"title": "F1", "description": "At the model's own (validation) threshold", **_UNIT},
        "f1_ci": {"title": "F1 95% CI"},
        "accuracy": {"title": "Accuracy", **_UNIT},
        "mcc": {"title": "MCC", "min": -1, "max": 1, "format": "{:,.3f}"},
        "ece": {"title": "ECE", "description": "Expected calibration error (10 uniform bins)", "format": "{:,.3f}"},
        "tp": {"title": "TP", "format": "{:,.0f}"}, "fp": {"title": "FP", "format": "{:,.0f}"},
        "tn": {"title": "TN", "format": "{:,.0f}"}, "fn": {"title": "FN", "format": "{:,.0f}"},
        "n": {"title": "Sequences", "format": "{:,.0f}"},
        "floor_status": {"title": "vs k-mer floor"},
    }
    boot = f"{result['n_bootstrap']} paired bootstrap resamples (seed {result['seed']})" if result["n_bootstrap"] else "no bootstrap"
    floor = f"; k-mer floor: {result['floor']}" if result["floor"] else ""
    return _section(
        "metrics", "Metrics with 95% confidence intervals", "evaluation", "table", table,
        f"Held-out metrics; intervals from {boot}{floor}. Best F1 and its threshold are chosen on this "
        "set and therefore optimistic; precision, recall, F1, accuracy and MCC use each model's own threshold.",
        {"sort_rows": False}, headers={k: v for k, v in headers.items() if any(k in r for r in table.values())},
    )


def _comparison_section(result: dict[str, Any]) -> dict:
    comp = {}
    for c in result["comparisons"]:
        row: dict[str, Any] = {}
        for metric in ("pr_auc", "roc_auc"):
            d = c[metric]
            row[f"{metric}_difference"] = d["difference"]
            if "p_value" in d:
                row[f"{metric}_ci"] = _ci((d["ci_low"], d["ci_high"]))
                row[f"{metric}_p"] = d["p_value"]
        if c["versus"] == result["floor"]:
            row["floor_status"] = result["models"][c["model"]].get("floor_status", "")
        comp[f"{c['model']} vs {c['versus']}"] = row
    comp_headers = {
        "pr_auc_difference": {"title": "Δ PR-AUC", "format": "{:,.4f}", "scale": "RdBu"},
        "pr_auc_ci": {"title": "Δ PR-AUC 95% CI"},
        "pr_auc_p": {"title": "p (PR-AUC)", "description": "Two-sided paired bootstrap p-value", "format": "{:,.4f}"},
        "roc_auc_difference": {"title": "Δ ROC-AUC", "format": "{:,.4f}", "scale": "RdBu"},
        "roc_auc_ci": {"title": "Δ ROC-AUC 95% CI"},
        "roc_auc_p": {"title": "p (ROC-AUC)", "description": "Two-sided paired bootstrap p-value", "format": "{:,.4f}"},
        "floor_status": {"title": "vs k-mer floor"},
    }
    return _section(
        "comparison", "Model comparison (paired bootstrap)", "evaluation", "table", comp,
        "Differences are first model minus second, on the same ids and the same resamples. A model that "
        "does not beat the k-mer floor's PR-AUC and ROC-AUC is flagged.",
        {"sort_rows": False}, headers={k: v for k, v in comp_headers.items() if any(k in r for r in comp.values())},
    )


def _curve_sections(curves: dict, histograms: dict) -> list[dict]:
    unit = {"xmin": 0, "xmax": 1, "ymin": 0, "ymax": 1}
    sections = [_section(
        "pr_curves", "Precision-recall curves", "evaluation", "linegraph",
        {n: _xy(c["pr"]["recall"], c["pr"]["precision"]) for n, c in curves.items()},
        "Precision against recall over all thresholds.", {"xlab": "Recall", "ylab": "Precision", **unit},
    )]
    sections.append(_section(
        "roc_curves", "ROC curves", "evaluation", "linegraph",
        {n: _xy(c["roc"]["fpr"], c["roc"]["tpr"]) for n, c in curves.items()},
        "True positive rate against false positive rate.", {"xlab": "False positive rate", "ylab": "True positive rate", **unit},
    ))
    sections.append(_section(
        "calibration", "Calibration (reliability curve)", "evaluation", "linegraph",
        {n: _xy(c["calibration"]["mean_predicted"], c["calibration"]["fraction_positive"]) for n, c in curves.items()},
        "Fraction of positives against the mean predicted probability in 10 uniform bins; a calibrated "
        "model follows the diagonal.", {"xlab": "Mean predicted probability", "ylab": "Fraction positive", **unit},
    ))
    if histograms:
        sections.append(_section(
            "score_histograms", "Score distributions by class", "evaluation", "linegraph",
            {series: counts for series, counts in histograms.items()},
            "Number of sequences per score bin, for each model and class.", {"xlab": "Score p", "ylab": "Sequences", "xmin": 0, "xmax": 1},
        ))
    return sections


def _count_table(runs: list[rs.ToolRun]) -> dict[str, dict[str, float]]:
    return {r.name: flat for r in runs if (flat := rs.flatten_numbers(r.data.get("counts") or {}))}


def _line_sections(key: str, name: str, group: str, series: dict, description: str, pconfig: dict) -> list[dict]:
    return [_section(key, name, group, "linegraph", series, description, pconfig)] if series else []


def run_sections(runs: list[rs.ToolRun]) -> list[dict]:
    """Sections built from the tools' run-info JSONs; only those with data."""
    by_tool = lambda tools: [r for r in runs if r.tool in tools]  # noqa: E731
    sections: list[dict] = []

    windows = by_tool(rs.WINDOW_TOOLS)
    if table := _count_table(windows):
        sections.append(_section("windows", "Windows and rejects", "data", "table", table,
                                 "Counts reported by bed-summit-window and background-windows."))
    if rejects := {r.name: found for r in windows if (found := rs.reject_reasons(r))}:
        sections.append(_section("rejects", "Rejected windows by reason", "data", "bargraph", rejects,
                                 "Rows that did not become windows, by reason.", {"ylab": "Rows", "cpswitch_counts_label": "Rows"}))
    gc = {}
    for r in by_tool(rs.WINDOW_TOOLS):
        gc.update(rs.histograms(r, ("gc",)))
    sections += _line_sections("gc_histograms", "GC content of windows", "data", gc,
                               "GC-content histograms (positives, and background before/after matching).",
                               {"xlab": "GC fraction", "ylab": "Windows"})

    dedup = by_tool(rs.DEDUP_TOOLS)
    if table := _count_table(dedup):
        sections.append(_section("duplicates", "Duplicates and reverse-complement duplicates", "data", "table", table,
                                 "fasta-rc-dedup: exact and reverse-complement duplicates, label conflicts."))

    splits = by_tool(rs.SPLIT_TOOLS)
    balance = {}
    for r in splits:
        for split, classes in rs.split_class_counts(r).items():
            balance[split if len(splits) == 1 else f"{r.name} {split}"] = {f"label {k}": v for k, v in classes.items()}
    if balance:
        sections.append(_section("split_balance", "Split balance", "data", "bargraph", balance,
                                 "Records per class in each split.", {"ylab": "Records", "cpswitch_counts_label": "Records"}))
    if leakage := {r.name: found for r in splits if (found := rs.leakage_audit(r))}:
        sections.append(_section("leakage", "Leakage audit", "data", "table", leakage,
                                 "dataset-split's audit: A_vs_B_exact (_reverse_complement, _near_duplicates) counts "
                                 "records of split B whose sequence (or its reverse complement, or a near duplicate) is "
                                 "in split A. Any non-zero overlap is leakage."))

    tokens = by_tool(rs.TOKEN_TOOLS)
    if token_table := {r.name: found for r in tokens if (found := rs.token_length_stats(r))}:
        sections.append(_section("token_stats", "Token lengths", "data", "table", token_table,
                                 "bpe-train: tokens per sequence, bp per token, truncation and the recommended max_length."))
    token_hist = {}
    for r in tokens:
        token_hist.update(rs.histograms(r))
    sections += _line_sections("token_histogram", "Token-length histogram", "data", token_hist,
                               "Tokens per sequence under the tokenizer.", {"xlab": "Tokens per sequence", "ylab": "Sequences"})

    trainers = by_tool(rs.TRAIN_TOOLS)
    if validation := {r.name: flat for r in trainers if (flat := rs.flatten_numbers(r.data.get("validation") or {}))}:
        sections.append(_section("validation", "Validation metrics (from training)", "training", "table", validation,
                                 "Each trainer's metrics on the validation split; the threshold was chosen there."))
    sections += _training_curves(trainers)
    sections += _optuna_sections(trainers)
    sections += _pretraining_sections(by_tool(rs.PRETRAIN_TOOLS))

    if runs:
        table = {r.name: {"tool": r.tool, "version": str(r.data.get("version", "")),
                          **({"elapsed_seconds": r.data["elapsed_seconds"]} if rs.is_number(r.data.get("elapsed_seconds")) else {})}
                 for r in runs}
        sections.append(_section("runs", "Tool runs", "runs", "table", table, "Run-info JSON files found.",
                                 headers={"tool": {"title": "Tool"}, "version": {"title": "Version"},
                                          "elapsed_seconds": {"title": "Seconds", "format": "{:,.1f}"}}))
    return sections


# x axes, set sizes that do not change, and the replicate a row belongs to (enhancernet-train --replicates)
_NOT_CURVES = ("epoch", "step", "val_n", "val_n_positive", "replicate")


def _training_curves(trainers: list[rs.ToolRun]) -> list[dict]:
    per_metric: dict[str, dict[str, dict[str, float]]] = {}
    for r in trainers:
        for i, row in enumerate(rs.epoch_log(r), start=1):
            x = row.get("epoch", row.get("step", i))
            series = f"{r.name} (replicate {int(row['replicate'])})" if "replicate" in row else r.name
            for key, value in row.items():
                if key not in _NOT_CURVES:
                    per_metric.setdefault(key, {}).setdefault(series, {})[str(x)] = value
    if not per_metric:
        return []
    names = sorted(per_metric, key=lambda k: (not k.startswith(("val", "pr_auc", "roc_auc")), k))
    return [_section("training_curves", "Training curves", "training", "linegraph", [per_metric[k] for k in names],
                     "Per-epoch log of each trainer; switch the metric with the buttons.",
                     {"xlab": "Epoch", "data_labels": [{"name": k, "ylab": k} for k in names]})]


def _pretraining_sections(runs: list[rs.ToolRun]) -> list[dict]:
    """dnabert2-pretrain: a table of totals and the validation masked-token accuracy (and loss) by step."""
    sections = []
    if table := {r.name: found for r in runs if (found := rs.pretraining_summary(r))}:
        sections.append(_section("pretraining", "Masked-LM pretraining", "training", "table", table,
                                 "dnabert2-pretrain: steps, tokens seen, and the last validation's masked-token "
                                 "accuracy and loss; val_majority_token_accuracy is the accuracy of always guessing "
                                 "the commonest masked token, the floor a model must clear."))
    curves: dict[str, dict[str, dict]] = {}
    for r in runs:
        for key, points in rs.pretraining_curve(r).items():
            curves.setdefault(key, {})[r.name] = {str(step): value for step, value in points.items()}
    names = [k for k in ("val_masked_accuracy", "val_loss") if k in curves]
    if names:
        sections.append(_section("pretraining_curve", "Masked-LM validation curve", "training", "linegraph",
                                 [curves[k] for k in names], "Masked-token accuracy (and loss) on the held-out "
                                 "tiles by optimizer step; switch with the buttons.",
                                 {"xlab": "Optimizer step", "data_labels": [{"name": k, "ylab": k} for k in names]}))
    return sections


def _optuna_sections(trainers: list[rs.ToolRun]) -> list[dict]:
    trials = {r.name: t for r in trainers if (t := rs.optuna_trials(r))}
    if not trials:
        return []
    sections = []
    curves = {name: {str(t["number"]): t["value"] for t in ts if "value" in t} for name, ts in trials.items()}
    sections += _line_sections("optuna_trials", "Optuna trials", "training", {k: v for k, v in curves.items() if v},
                               "Objective (validation PR-AUC) of each trial.", {"xlab": "Trial", "ylab": "Objective"})
    table = {f"{name} trial {t['number']}": {k: v for k, v in t.items() if k != "number"} for name, ts in trials.items() for t in ts}
    sections.append(_section("optuna_table", "Optuna trials table", "training", "table", table,
                             "Every trial's objective, state and hyperparameters."))
    return sections


def write_content(sections: list[dict], versions: dict[str, dict[str, str]], out_dir: str) -> list[str]:
    """Write ``<id>_mqc.json`` per section and ``enhancer_tools_mqc_versions.yml`` into out_dir."""
    import yaml

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for s in sections:
        path = os.path.join(out_dir, f"{s['id']}_mqc.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(s, fh, indent=1, ensure_ascii=False)
        paths.append(path)
    if versions:
        path = os.path.join(out_dir, "enhancer_tools_mqc_versions.yml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(versions, fh, sort_keys=True)
        paths.append(path)
    return paths


def report_versions() -> dict[str, str]:
    """The report tool's own row of the software-versions section."""
    import platform
    from importlib.metadata import version

    from enhancer_tools import __version__

    return {"enhancer-tools": __version__, "multiqc": version("multiqc"), "python": platform.python_version()}


def report_header(result: dict[str, Any], n_sequences: int, n_positive: int, n_runs: int) -> dict[str, Any]:
    """The report's title block: what it is (the suite), the models compared and the data."""
    from enhancer_tools import __version__

    models = list(result["models"])
    floor = result.get("floor")
    boot = f"{result['n_bootstrap']} paired bootstrap resamples" if result.get("n_bootstrap") else "no bootstrap"
    return {
        "title": "enhancer-tools: enhancer classifier evaluation",
        "subtitle": f"{', '.join(models)} on {n_sequences:,} held-out sequences",
        "intro_text": (f"Held-out evaluation of {len(models)} enhancer classifier(s) trained with enhancer-tools "
                       f"{__version__} (DNABERT-2, EnhancerNet CNN, k-mer logistic regression): PR-AUC, ROC-AUC and "
                       "F1 with 95% bootstrap intervals, paired comparisons against the k-mer floor, curves and "
                       f"calibration; then what each tool of the chain did ({n_runs} run-info files)."),
        "report_header_info": [
            {"Suite": f"enhancer-tools {__version__}"},
            {"Models compared": ", ".join(models)},
            {"k-mer floor": floor or "none given"},
            {"Held-out set": f"{n_sequences:,} sequences, {n_positive:,} positive"},
            {"Intervals": boot},
        ],
    }


def run_multiqc(content_dir: str, out_dir: str, strict: bool = False, header: dict[str, Any] | None = None) -> None:
    """Run MultiQC (the library) on ``content_dir``, writing multiqc_report.html and
    multiqc_data/ into out_dir: quiet, no version check, no AI, no upload, no flat-image export
    (which would need kaleido), nothing fetched from the network. ``header``: title, subtitle,
    intro and header rows (``report_header``)."""
    import multiqc
    from multiqc.core.update_config import ClConfig

    settings = json.dumps({
        "title": "enhancer-tools report",
        **(header or {}),
        "output_fn_name": "multiqc_report.html",  # fixed names whatever the title
        "data_dir_name": "multiqc_data",
        "custom_content": {"order": [f"enhancer_tools_{g}" for g in GROUPS]},
        "report_section_order": {s: {"order": i} for i, s in enumerate(SECTION_ORDER)},
    })
    cfg = ClConfig(
        output_dir=out_dir, force=True,
        quiet=True, no_ansi=True, no_version_check=True, no_ai=True, no_megaqc_upload=True, make_pdf=False,
        export_plots=False, plots_force_interactive=True, make_data_dir=True, data_format="tsv",
        zip_data_dir=False, strict=strict, cl_config=[settings],
    )
    result = multiqc.run(content_dir, cfg=cfg, interactive=False)
    if result.sys_exit_code != 0:
        raise RuntimeError(f"MultiQC failed (exit {result.sys_exit_code}): {result.message}")
