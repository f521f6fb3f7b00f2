"""Shared set-up for the dnabert2-pretrain tests: a small random genome, a small BPE tokenizer
trained on it, and in-process calls of the tool and of its library function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner
from genome_fixtures import write_genome

from enhancer_tools.cli.dnabert2_pretrain import main
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.models.dnabert2 import DNABERT2Config
from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe
from enhancer_tools.training.pretrain_run import PretrainRequest, pretrain
from enhancer_tools.training.pretrain_settings import PretrainSettings


def small_genome(folder: Path, seed: int = 7) -> Path:
    """Two 6 kb chromosomes of random bases with a repeated motif, and a 500 bp gap of N."""
    rng = np.random.default_rng(seed)
    chrom = lambda n: "".join(rng.choice(list("ACGT"), n))
    motif = "TGACTCAGATAAGG"
    chr1 = "".join(chrom(40) + motif for _ in range(110))[:6000]
    chr2 = chrom(2500) + "N" * 500 + chrom(3000)
    return write_genome(folder, {"chr1": chr1, "chr2": chr2}, width=60)


def small_tokenizer(genome: Path, path: Path, vocab_size: int = 64) -> Path:
    from enhancer_tools.io.fasta import read_fasta

    seqs = [r.seq[i:i + 500] for r in read_fasta(genome) for i in range(0, len(r.seq), 500)]
    save_tokenizer(train_bpe([s for s in seqs if "N" not in s], vocab_size), path)
    return path


def pretrain_cli(*args):
    """Run dnabert2-pretrain in-process; returns click's result (never raises)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def tiny_architecture(vocab_size: int) -> dict:
    return DNABERT2Config.tiny(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=1,
                               intermediate_size=64).to_dict()


def run_library(genome: Path, tokenizer: Path, output: Path, **fields):
    """pretrain() on a tiny random-weights model; returns (run info, result)."""
    settings = PretrainSettings(**{"max_tokens": 40, "batch_size": 8, "steps": 6, "eval_every": 2,
                                   "learning_rate": 1e-3, **fields.pop("settings", {})})
    run = RunInfo("dnabert2-pretrain")
    fields = {"architecture": tiny_architecture(64), "val_fraction": 0.1, "device": "cpu", "threads": 1, **fields}
    req = PretrainRequest(output=str(output), tokenizer=str(tokenizer), settings=settings, genome=str(genome), **fields)
    return run, pretrain(run, req)
