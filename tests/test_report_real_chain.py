"""The real chain on the committed small demo data, through the console scripts, ends in a
MultiQC report whose data files hold every section with the values the tools wrote in --json."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # nine tools, two trainers, one MultiQC run: ~40-60 s idle

DEMO = Path(__file__).resolve().parents[1] / "test-data" / "demo_small"
BIN = Path(sys.executable).parent
SECTIONS = ("metrics", "comparison", "pr_curves", "roc_curves", "calibration", "score_histograms", "windows",
            "rejects", "gc_histograms", "duplicates", "split_balance", "leakage", "token_stats", "token_histogram",
            "validation", "training_curves", "runs")


def tool(name: str, *args) -> None:
    result = subprocess.run([str(BIN / name), *map(str, args), "--quiet"], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{name} exit {result.returncode}: {result.stderr}"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("chain")
    stats = d / "stats"
    stats.mkdir()
    genome = DEMO / "genome.fa"
    tool("bed-summit-window", DEMO / "peaks.narrowPeak", "--genome", genome, "--width", 1000, "-o", d / "windows.fa",
         "--bed", d / "windows.bed", "--rejects", d / "rejects.tsv", "--json", stats / "windows.json")
    tool("background-windows", "--genome", genome, "--exclude", d / "windows.bed", "--like", d / "windows.fa",
         "--seed", 1, "-o", d / "background.fa", "--bed", d / "background.bed", "--json", stats / "background.json")
    tool("fasta-rc-dedup", d / "windows.fa", d / "background.fa", "-o", d / "dataset.fa", "--json", stats / "dedup.json")
    split = {s: d / f"{s}.fa" for s in ("train", "val", "test")}
    tool("dataset-split", d / "dataset.fa", "--train", split["train"], "--val", split["val"], "--test", split["test"],
         "--seed", 1, "--json", stats / "split.json")
    tool("bpe-train", split["train"], "--vocab-size", 64, "--seed", 1, "-o", d / "tokenizer.json",
         "--json", stats / "bpe.json")
    tool("kmer-baseline", "--train", split["train"], "--val", split["val"], "-o", d / "kmer", "--k", "3-5",
         "--c-grid", "0.1,1", "--json", stats / "kmer.json")
    tool("enhancernet-train", "--train", split["train"], "--val", split["val"], "-o", d / "cnn", "--epochs", 1,
         "--device", "cpu", "--seed", 1, "--json", stats / "cnn.json")
    for model in ("kmer", "cnn"):
        tool("score-regions", "--model", d / model, "--fasta", split["test"], "-o", d / f"{model}.tsv",
             "--device", "cpu", "--json", stats / f"score.{model}.json")
    tool("report", "--scores", f"cnn={d / 'cnn.tsv'}", "--scores", f"kmer={d / 'kmer.tsv'}", "--floor", "kmer",
         "--stats", stats, "-o", d / "report", "--bootstrap", 200, "--seed", 1, "--json", d / "report.json")
    runs = {p.stem: json.loads(p.read_text()) for p in stats.glob("*.json")}
    runs["report"] = json.loads((d / "report.json").read_text())
    return d / "report", runs


def read_tsv(path: Path) -> dict[str, dict[str, str]]:
    with open(path) as fh:
        return {row["Sample"]: row for row in csv.DictReader(fh, delimiter="\t")}


def table(report: Path, section: str) -> dict[str, dict[str, str]]:
    return read_tsv(report / "multiqc_data" / f"multiqc_enhancer_tools_{section}_plot.txt")


def test_every_section_is_in_the_report(chain):
    report, _ = chain
    data = report / "multiqc_data"
    missing = [s for s in SECTIONS if not (data / f"multiqc_enhancer_tools_{s}_plot.txt").is_file()]
    assert not missing, f"sections missing from {data}: {missing}"
    html = (report / "multiqc_report.html").read_text()
    assert all(f"enhancer_tools_{s}" in html for s in SECTIONS)
    assert (data / "multiqc_software_versions.txt").is_file()


def test_data_preparation_values_match_the_tools(chain):
    report, runs = chain
    windows = table(report, "windows")
    assert windows["bed-summit-window"]["windows_written"] == str(runs["windows"]["counts"]["windows_written"])
    assert windows["background-windows"]["windows_written"] == str(runs["background"]["counts"]["windows_written"])
    reasons = runs["windows"]["counts"]["rejects_by_reason"]
    assert {k: int(v) for k, v in table(report, "rejects")["bed-summit-window"].items() if k != "Sample"} == reasons
    dedup = table(report, "duplicates")["fasta-rc-dedup"]
    for key in ("records_in", "records_out", "exact_duplicates_within_file", "revcomp_duplicates_across_files"):
        assert dedup[key] == str(runs["dedup"]["counts"][key]), key
    balance = table(report, "split_balance")
    for split in ("train", "val", "test"):
        for label, n in runs["split"]["counts"][f"{split}_per_class"].items():
            assert balance[split][f"label {label}"] == str(n)
    leakage = table(report, "leakage")["dataset-split"]
    assert leakage["leaking_records"] == str(runs["split"]["audit"]["leaking_records"])
    assert leakage["train_vs_test_reverse_complement"] == str(runs["split"]["audit"]["overlaps"][1]["reverse_complement"])
    lengths = runs["bpe"]["token_lengths"]
    tokens = table(report, "token_stats")["bpe-train"]
    assert tokens["tokens_per_sequence.median"] == str(lengths["tokens_per_sequence"]["median"])
    assert tokens["recommended_max_length"] == str(lengths["recommended_max_length"])
    histogram = table(report, "token_histogram")["bpe-train"]
    assert sum(float(v) for k, v in histogram.items() if k != "Sample" and v) == lengths["sequences"]


def test_training_and_evaluation_values_match_the_tools(chain):
    report, runs = chain
    validation = table(report, "validation")
    assert float(validation["enhancernet-train"]["pr_auc"]) == pytest.approx(runs["cnn"]["validation"]["pr_auc"])
    assert float(validation["kmer-baseline"]["roc_auc"]) == pytest.approx(runs["kmer"]["validation"]["roc_auc"])
    curves = [read_tsv(p) for p in (report / "multiqc_data").glob("multiqc_enhancer_tools_training_curves_plot*.txt")]
    first_epoch = runs["cnn"]["epochs"][0]
    assert first_epoch["replicate"] == 1  # enhancernet-train's default: three networks, a curve each
    assert any(float(c["enhancernet-train (replicate 1)"]["1.0"]) == pytest.approx(first_epoch["val_pr_auc"])
               for c in curves)
    metrics = table(report, "metrics")
    evaluation = runs["report"]["evaluation"]["models"]
    for model in ("cnn", "kmer"):
        assert float(metrics[model]["pr_auc"]) == pytest.approx(evaluation[model]["pr_auc"])
        low, high = evaluation[model]["ci95"]["pr_auc"]
        assert metrics[model]["pr_auc_ci"] == f"{low:.3f}–{high:.3f}"
    assert metrics["kmer"]["floor_status"] == "k-mer floor"
    tool_runs = table(report, "runs")
    assert {row["tool"] for row in tool_runs.values()} == {r["tool"] for name, r in runs.items() if name != "report"}


def test_versions_come_from_the_runs(chain):
    report, runs = chain
    versions = read_tsv(report / "multiqc_data" / "multiqc_software_versions.txt")
    assert versions["enhancernet-train"]["torch"] == runs["cnn"]["versions"]["torch"]
    assert versions["bpe-train"]["enhancer-tools"] == runs["bpe"]["version"]
