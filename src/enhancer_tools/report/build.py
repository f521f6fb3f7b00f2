"""The whole report: read and pair the scores, evaluate, draw figures, write the MultiQC custom
content and run MultiQC, all into one folder that appears only when everything succeeded."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.output_folder import check_output_folder
from enhancer_tools.report import multiqc_content, run_stats
from enhancer_tools.report.evaluate import evaluate, find_floor, write_tables
from enhancer_tools.report.scores import pair_by_id, parse_scores_option, read_scores

log = logging.getLogger(__name__)
_REPORT_MARKERS = ("metrics.json", "multiqc_report.html")


def is_report_folder(path: Path) -> bool:
    """True when ``path`` holds a report this tool wrote (the only folder ``--force`` replaces)."""
    return all((path / m).is_file() for m in _REPORT_MARKERS)


def score_histograms(models, bins: int = 40) -> dict[str, dict[str, int]]:
    """Per model and class, sequences per score bin (keys: bin centres)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    centres = [f"{c:.4g}" for c in (edges[:-1] + edges[1:]) / 2]
    out = {}
    for m in models:
        for cls in (0, 1):
            counts, _ = np.histogram(m.p[m.label == cls], bins=edges)
            out[f"{m.name} label {cls}"] = dict(zip(centres, counts.tolist()))
    return out


def build_report(scores: list[str], stats: list[str], out_dir: str, n_boot: int, seed: int,
                 floor: str | None, run, force: bool = False) -> None:
    """Evaluate ``scores`` (NAME=path), gather ``stats`` run infos, and write REPORT_DIR."""
    from enhancer_tools.report.plots import write_figures

    specs = [parse_scores_option(s) for s in scores]
    names = [n for n, _ in specs]
    if len(set(names)) != len(names):
        raise UserError(f"--scores names must be unique, got {', '.join(names)}")
    if n_boot < 0:
        raise UserError("--bootstrap must be 0 (none) or a positive number of resamples")
    floor = find_floor(names, floor)
    check_output_folder(out_dir, [p for _, p in specs] + list(stats), force=force, is_ours=is_report_folder, what="report")
    for name, path in specs:
        run.add_input(f"scores:{name}", path)
    models = pair_by_id([read_scores(n, p) for n, p in specs])
    runs = run_stats.load_runs(list(stats), exclude=out_dir)
    run.add_input("stats", [r.path for r in runs])
    log.info("evaluating %d model(s) on %d sequences (%d positive), %d bootstrap resamples",
             len(models), len(models[0].label), int(models[0].label.sum()), n_boot)
    result = evaluate(models, n_boot, seed, floor)
    for name, m in result["models"].items():
        if m.get("floor_status") == "does not beat k-mer floor":
            log.warning("%s does not beat the k-mer floor (%s) on PR-AUC and ROC-AUC", name, floor)

    with AtomicOutputs() as out:
        tmp = out.directory(out_dir, replace=force)
        write_tables(result, tmp)
        figures = os.path.join(tmp, "figures")
        os.makedirs(figures)
        write_figures(models, result["models"], result["curves"], figures)
        sections = multiqc_content.evaluation_sections(result, score_histograms(models))
        sections += multiqc_content.run_sections(runs)
        content = os.path.join(tmp, multiqc_content.CONTENT_DIR)
        versions = {**run_stats.software_versions(runs), "report": multiqc_content.report_versions()}
        multiqc_content.write_content(sections, versions, content)
        header = multiqc_content.report_header(result, len(models[0].label), int(models[0].label.sum()), len(runs))
        multiqc_content.run_multiqc(content, tmp, header=header)
    run.counts.update({"models": len(models), "sequences": int(len(models[0].label)),
                       "positives": int(models[0].label.sum()), "stats_files": len(runs), "sections": len(sections)})
    run.outputs.update({"report": os.path.join(out_dir, "multiqc_report.html"), "metrics": os.path.join(out_dir, "metrics.tsv")})
    run.extra["evaluation"] = {k: v for k, v in result.items() if k != "curves"}
