"""The demo targets of issues 18 and 19, on the demo's own split (the chain of
scripts/run-demo.sh: summit windows, GC-matched background, de-duplication, dataset-split, a
4096-term BPE vocabulary of the training split).

- Issue 18: the tiny DNABERT-2 trained from scratch with dnabert2-finetune's defaults (which are
  the demo's options) reaches the k-mer floor: the median validation ROC-AUC of seeds 1, 2, 3 is
  at least kmer-baseline's and every seed is within 0.03 of it, each run under 2 CPU-minutes (the
  CPU time of its own process with one torch thread, so other jobs on the machine do not decide
  it). Its scores are a continuum, not a few spikes (the plateau symptom of [CLS] pooling).
- Issue 19: masked-LM pretraining on the demo genome (validation and test windows excluded)
  lifts masked-token accuracy well above the commonest token's frequency, and fine-tuning from it
  with the same settings gives a higher median validation ROC-AUC over seeds 1-3 than from random
  weights.
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from enhancer_tools.models.kinds.dnabert2 import SCRATCH_DEFAULTS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # ~100 CPU-second trainings, two at a time

BIN = Path(sys.executable).parent
SEEDS = (1, 2, 3)
# The demo's dnabert2-finetune line (scripts/run-demo.sh) without its paths: the defaults do the rest.
DEMO_OPTIONS = ("--init", "tiny", "--max-length", "216", "--device", "cpu", "--threads", "1")
# --init's defaults spelt out, for fine-tuning from the masked LM with the same settings
SCRATCH_RECIPE = tuple(arg for name, value in SCRATCH_DEFAULTS.items()
                       for arg in ((f"--{name.replace('_', '-')}",) if value is True else
                                   (f"--{name.replace('_', '-')}", str(value))))
# the README's CPU pretraining command (1,500 steps: ~5 CPU-minutes) with two threads: the same figures
# as the README's --threads 1 (masked accuracy 0.079, ROC-AUC 0.927 / 0.922 / 0.922), 350 s instead of 433 s
PRETRAIN_OPTIONS = ("--max-length", "216", "--tile-step", "540", "--steps", "1500", "--batch-size", "32",
                    "--learning-rate", "1e-3", "--eval-every", "500", "--device", "cpu", "--threads", "2")


def tool(name: str, *args, timeout: int = 300) -> None:
    result = subprocess.run([str(BIN / name), *map(str, args), "--quiet"], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{name} exit {result.returncode}: {result.stderr}"


def demo_split(d: Path) -> dict:
    """The demo chain up to the tokenizer, as scripts/run-demo.sh runs it."""
    subprocess.run([sys.executable, "-m", "enhancer_tools.demo", "--out", str(d / "data"), "--seed", "1"], check=True,
                   capture_output=True)
    genome = d / "data" / "genome.fa"
    tool("bed-summit-window", d / "data" / "peaks.narrowPeak", "--genome", genome, "--width", 1000,
         "-o", d / "windows.fa", "--bed", d / "windows.bed")
    tool("background-windows", "--genome", genome, "--exclude", d / "windows.bed", "--like", d / "windows.fa",
         "--ratio", 1.0, "--seed", 1, "-o", d / "background.fa")
    tool("fasta-rc-dedup", d / "windows.fa", d / "background.fa", "-o", d / "dataset.fa")
    split = {s: d / f"{s}.fa" for s in ("train", "val", "test")}
    tool("dataset-split", d / "dataset.fa", "--train", split["train"], "--val", split["val"], "--test", split["test"],
         "--seed", 1)
    tool("bpe-train", split["train"], "--vocab-size", 4096, "--seed", 1, "-o", d / "tokenizer.json")
    return split


def finetune_seeds(d: Path, split: dict, name: str, start: tuple) -> dict:
    """Train one model per seed (``start``: --init/--model and options), two processes at a time;
    {seed: (validation, CPU seconds)}; the model of seed s is ``d / f"{name}{s}"``."""
    results, running = {}, {}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for seed in SEEDS + (None,):
        while running and (seed is None or len(running) >= 2):
            pid, status, usage = os.wait4(-1, 0)
            done, log = running.pop(pid)
            assert os.waitstatus_to_exitcode(status) == 0, Path(log).read_text()
            results[done] = (json.loads((d / f"{name}{done}.json").read_text())["validation"],
                             usage.ru_utime + usage.ru_stime)
        if seed is not None:
            log = d / f"{name}{seed}.log"
            args = [sys.executable, "-m", "enhancer_tools.cli.dnabert2_finetune", "--train", split["train"],
                    "--val", split["val"], "-o", d / f"{name}{seed}", *start, "--seed", seed,
                    "--json", d / f"{name}{seed}.json", "--quiet"]
            with open(log, "w") as fh:
                proc = subprocess.Popen(list(map(str, args)), stdout=fh, stderr=subprocess.STDOUT, env=env)
            running[proc.pid] = (seed, log)
    return results


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The split, the k-mer floor and the from-scratch seeds, shared by both targets."""
    d = tmp_path_factory.mktemp("demo_target")
    split = demo_split(d)
    tool("kmer-baseline", "--train", split["train"], "--val", split["val"], "-o", d / "kmer", "--json", d / "kmer.json")
    floor = json.loads((d / "kmer.json").read_text())["validation"]["roc_auc"]
    scratch = finetune_seeds(d, split, "scratch", ("--tokenizer", d / "tokenizer.json", *DEMO_OPTIONS))
    for seed, (validation, cpu) in sorted(scratch.items()):
        print(f"from scratch, seed {seed}: validation ROC-AUC {validation['roc_auc']:.4f} "
              f"PR-AUC {validation['pr_auc']:.4f}, CPU {cpu:.0f} s (k-mer floor ROC-AUC {floor:.4f})")
    return d, split, floor, scratch


def test_scratch_defaults_reach_the_kmer_floor(demo):
    d, split, floor, results = demo
    rocs = [results[s][0]["roc_auc"] for s in SEEDS]
    assert statistics.median(rocs) >= floor, (rocs, floor)
    assert all(roc >= floor - 0.03 for roc in rocs), (rocs, floor)
    assert all(cpu < 120 for _, cpu in results.values()), results

    tool("score-regions", "--model", d / "scratch1", "--fasta", split["val"], "-o", d / "val.tsv", "--device", "cpu")
    with open(d / "val.tsv") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        probs = [row.rstrip("\n").split("\t")[header.index("p")] for row in fh]
    assert len(set(probs)) > 0.9 * len(probs), f"{len(set(probs))} distinct scores of {len(probs)}"


def test_pretraining_on_the_genome_helps_fine_tuning(demo):
    d, split, _, scratch = demo
    held_out = d / "held-out.bed"
    with open(held_out, "w") as out:
        for name in ("val", "test"):
            for line in open(split[name]):
                if line.startswith(">"):
                    chrom, span = line.split("region=")[1].split()[0].split("(")[0].split(":")  # chr:s-e(strand)
                    out.write("{}\t{}\t{}\n".format(chrom, *span.split("-")))
    tool("dnabert2-pretrain", "--genome", d / "data" / "genome.fa", "--exclude", held_out, "--init", "tiny",
         "--tokenizer", d / "tokenizer.json", "-o", d / "mlm", *PRETRAIN_OPTIONS, "--json", d / "mlm.json", timeout=1500)
    mlm = json.loads((d / "mlm.json").read_text())["validation"]
    print(f"masked-token accuracy {mlm['masked_accuracy']:.4f}, commonest token {mlm['majority_token_accuracy']:.4f}")
    assert mlm["masked_accuracy"] > 3 * mlm["majority_token_accuracy"]

    pretrained = finetune_seeds(d, split, "pretrained", ("--model", d / "mlm", *DEMO_OPTIONS[2:], *SCRATCH_RECIPE))
    rocs = {name: [runs[s][0]["roc_auc"] for s in SEEDS] for name, runs in (("scratch", scratch),
                                                                           ("pretrained", pretrained))}
    print(f"validation ROC-AUC, seeds {SEEDS}: from random weights {rocs['scratch']}, "
          f"from the masked LM {rocs['pretrained']}")
    assert statistics.median(rocs["pretrained"]) > statistics.median(rocs["scratch"]), rocs
