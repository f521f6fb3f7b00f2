"""report runs the real MultiQC: its data files hold our sections and values, figures are
written, and `multiqc` run by a user on a folder holding the report finds the same sections."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_fakes import write_models, write_run_infos

from enhancer_tools.cli.report import main

pytestmark = pytest.mark.slow  # two MultiQC runs: ~10-20 s


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    scores = write_models(folder)
    write_run_infos(folder / "runs")
    out = folder / "report"
    args = [a for name, path in scores.items() for a in ("--scores", f"{name}={path}")]
    result = CliRunner().invoke(main, [*args, "--stats", str(folder / "runs"), "-o", str(out), "--bootstrap", "200",
                                       "--quiet", "--json", str(folder / "report.json")])
    assert result.exit_code == 0, result.output
    return folder, out


def table(path: Path) -> dict[str, dict[str, str]]:
    with open(path) as fh:
        return {row["Sample"]: row for row in csv.DictReader(fh, delimiter="\t")}


def test_report_outputs_and_metric_values(report):
    _, out = report
    assert (out / "multiqc_report.html").stat().st_size > 100_000
    metrics = json.loads((out / "metrics.json").read_text())
    mqc = table(out / "multiqc_data" / "multiqc_enhancer_tools_metrics_plot.txt")
    assert set(mqc) == {"DNABERT2", "CNN", "kmer"}
    for name, row in mqc.items():
        assert float(row["pr_auc"]) == pytest.approx(metrics["models"][name]["pr_auc"])
        assert float(row["roc_auc"]) == pytest.approx(metrics["models"][name]["roc_auc"])
        assert "–" in row["pr_auc_ci"]
    assert mqc["kmer"]["floor_status"] == "k-mer floor"
    assert mqc["DNABERT2"]["floor_status"] == "beats k-mer floor"
    comparison = table(out / "multiqc_data" / "multiqc_enhancer_tools_comparison_plot.txt")
    assert set(comparison) == {"DNABERT2 vs CNN", "DNABERT2 vs kmer", "CNN vs kmer"}
    with open(out / "metrics.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert [r["model"] for r in rows] == ["DNABERT2", "CNN", "kmer"]


def test_figures_exist_and_are_not_empty(report):
    _, out = report
    for name in ("pr_curves", "roc_curves", "calibration", "score_histograms"):
        for ext in ("png", "svg"):
            path = out / "figures" / f"{name}.{ext}"
            assert path.stat().st_size > 5000, path
    assert (out / "figures" / "pr_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "DNABERT2" in (out / "figures" / "pr_curves.svg").read_text()


def test_run_info_sections_and_values(report):
    _, out = report
    data = out / "multiqc_data"
    rejects = table(data / "multiqc_enhancer_tools_rejects_plot.txt")
    assert rejects["bed-summit-window"]["off_chromosome_end"] == "60"
    split = table(data / "multiqc_enhancer_tools_split_balance_plot.txt")
    assert split["train"]["label 0"] == "718" and split["test"]["label 1"] == "154"
    leakage = table(data / "multiqc_enhancer_tools_leakage_plot.txt")["dataset-split"]
    assert leakage["train_vs_test_reverse_complement"] == "1" and leakage["train_vs_val_exact"] == "0"
    assert leakage["leaking_records"] == "1" and leakage["test_duplicates_within"] == "0"
    dedup = table(data / "multiqc_enhancer_tools_duplicates_plot.txt")
    assert dedup["fasta-rc-dedup"]["revcomp_duplicates_across_files"] == "15"
    assert dedup["fasta-rc-dedup"]["exact_duplicates_within_file"] == "60"
    tokens = table(data / "multiqc_enhancer_tools_token_stats_plot.txt")
    assert tokens["bpe-train"]["recommended_max_length"] == "232"
    assert tokens["bpe-train"]["tokens_per_sequence.median"] == "205" and tokens["bpe-train"]["vocab_size"] == "4096"
    token_hist = table(data / "multiqc_enhancer_tools_token_histogram_plot.txt")
    assert float(token_hist["bpe-train"]["200.0"]) == 600
    optuna = table(data / "multiqc_enhancer_tools_optuna_table_plot.txt")
    assert float(optuna["dnabert2-finetune trial 1"]["value"]) == 0.85
    assert optuna["dnabert2-finetune trial 2"]["state"] == "PRUNED"
    assert float(optuna["dnabert2-finetune trial 1"]["param learning_rate"]) == 3e-5
    validation = table(data / "multiqc_enhancer_tools_validation_plot.txt")
    assert float(validation["dnabert2-finetune"]["pr_auc"]) == 0.85
    for plot in ("pr_curves", "roc_curves", "calibration", "score_histograms", "gc_histograms", "token_histogram",
                 "training_curves", "optuna_trials", "optuna_table", "runs", "windows"):
        assert (data / f"multiqc_enhancer_tools_{plot}_plot.txt").stat().st_size > 0, plot
    versions = table(data / "multiqc_software_versions.txt")
    assert versions["dnabert2-finetune"]["torch"] == "2.13.0+cpu"
    assert "not_runinfo" not in (data / "multiqc_enhancer_tools_runs_plot.txt").read_text()


def test_user_run_of_multiqc_finds_the_same_sections(report, tmp_path):
    folder, out = report
    ours = sorted(p.name for p in (out / "multiqc_data").glob("multiqc_enhancer_tools_*"))
    subprocess.run([sys.executable, "-m", "multiqc", str(folder), "-o", str(tmp_path), "--quiet", "--no-version-check",
                    "--no-ai"], check=True, timeout=240)
    theirs = sorted(p.name for p in (tmp_path / "multiqc_data").glob("multiqc_enhancer_tools_*"))
    assert ours == theirs and len(ours) >= 19


def test_no_empty_sections_without_stats(tmp_path):
    scores = write_models(tmp_path, n=80)
    out = tmp_path / "rep"
    args = [a for name, path in scores.items() for a in ("--scores", f"{name}={path}")]
    result = CliRunner().invoke(main, [*args, "-o", str(out), "--bootstrap", "0", "--quiet"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (out / "multiqc_content").iterdir())
    assert files == sorted([f"enhancer_tools_{k}_mqc.json" for k in
                            ("metrics", "comparison", "pr_curves", "roc_curves", "calibration", "score_histograms")]
                           + ["enhancer_tools_mqc_versions.yml"])  # the report's own versions


def test_title_block_names_the_suite_models_and_data(report):
    _, out = report
    data = json.loads((out / "multiqc_data" / "multiqc_data.json").read_text())
    assert data["config_title"] == "enhancer-tools: enhancer classifier evaluation"
    assert "DNABERT2, CNN, kmer" in data["config_subtitle"]
    assert "enhancer-tools" in data["config_intro_text"] and "MultiQC" not in data["config_intro_text"]
    header = {k: v for row in data["config_report_header_info"] for k, v in row.items()}
    assert header["Models compared"] == "DNABERT2, CNN, kmer" and header["k-mer floor"] == "kmer"
    assert header["Suite"].startswith("enhancer-tools ")
    html = (out / "multiqc_report.html").read_text()
    assert "enhancer-tools: enhancer classifier evaluation" in html


def test_software_versions_list_ours_and_plot_legends_are_on(report):
    _, out = report
    versions = table(out / "multiqc_data" / "multiqc_software_versions.txt")
    assert "report" in versions and versions["report"]["enhancer-tools"]
    for path in (out / "multiqc_content").glob("*_mqc.json"):
        section = json.loads(path.read_text())
        if section["plot_type"] == "linegraph":
            assert section["pconfig"]["showlegend"] is True, path.name
