"""Shared set-up for the dnabert2-finetune tests: a small BPE tokenizer trained on the training
split, the tiny model family, and a CliRunner call of the tool."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from enhancer_tools.cli.dnabert2_finetune import main
from enhancer_tools.io.dataset import read_dataset
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.models.dnabert2 import DNABERT2Config
from enhancer_tools.models.hyperparameters import with_values
from enhancer_tools.models.kinds.dnabert2 import DNABERT2Hyperparameters
from enhancer_tools.models.registry import kind
from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe
from enhancer_tools.training.fit import FitRequest, fit

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"


def make_tokenizer(train: Path, path: Path, vocab_size: int = 64) -> Path:
    """A DNABERT-2-layout BPE tokenizer trained on the sequences of ``train``."""
    save_tokenizer(train_bpe([r.seq for r in read_dataset(train)], vocab_size), path)
    return path


def finetune(*args: str):
    """Run dnabert2-finetune in-process; returns click's result (never raises)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def run_tiny_fit(train, val, output, tokenizer, **request):
    """fit() on a tiny from-scratch DNABERT-2 (hidden 32, 1 layer); returns (run info, metrics)."""
    from enhancer_tools.tokenize.encode import load_tokenizer

    vocab = load_tokenizer(tokenizer).get_vocab_size(with_added_tokens=True)
    config = DNABERT2Config.tiny(vocab_size=vocab, hidden_size=32, num_hidden_layers=1, intermediate_size=64)
    hp = with_values(DNABERT2Hyperparameters.for_scratch(),
                     {"epochs": 2, "batch_size": 16, "learning_rate": 3e-3, "architecture": config.to_dict(),
                      "tokenizer": str(tokenizer), "max_tokens": 48, **request.pop("params", {})})
    run = RunInfo("dnabert2-finetune")
    metrics = fit(run, FitRequest(kind=kind("dnabert2"), hyperparameters=hp, train=str(train), val=str(val),
                                  output=str(output), device="cpu", **request))
    return run, metrics
