"""Shared pieces of the explain-regions tests: the CLI in-process, and a tiny k-mer model."""

from __future__ import annotations

import random
from pathlib import Path

from click.testing import CliRunner
from score_helpers import random_seq, write_fasta


def run_explain(args, **kwargs):
    """Run explain-regions in-process; returns click's Result."""
    from enhancer_tools.cli.explain_regions import main

    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def make_kmer_dir(folder: Path) -> Path:
    """A k-mer baseline trained on 40 random sequences (k = 2..3)."""
    from enhancer_tools.cli.kmer_baseline import main

    rng = random.Random(3)
    train = write_fasta(folder.parent / "kmer_train.fa", [(f"t{i}", i % 2, random_seq(rng, 60)) for i in range(40)])
    val = write_fasta(folder.parent / "kmer_val.fa", [(f"v{i}", i % 2, random_seq(rng, 60)) for i in range(20)])
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(folder), "--k", "2-3",
                                       "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder
