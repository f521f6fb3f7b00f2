"""Tiny model directories (random EnhancerNet, random DNABERT-2 with a small BPE) and inputs for
the score-regions tests. Nothing here needs ../shared."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner


def random_seq(rng: random.Random, length: int, alphabet: str = "ACGT") -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def make_cnn_dir(folder: Path, width: int = 80, seed: int = 0, rc_share: bool = False, window: bool = True) -> Path:
    """A random-weight EnhancerNet model directory (temperature 2, threshold 0.5)."""
    import torch

    from enhancer_tools.models.enhancernet import EnhancerNet, EnhancerNetConfig
    from enhancer_tools.models.modeldir import save_model_dir
    from enhancer_tools.metrics.calibration import Calibration

    torch.manual_seed(seed)
    cfg = EnhancerNetConfig(width=width, channels=[8, 8, 8], kernel_sizes=[5, 5, 3], pool=2, dense=8, dropout=0.0,
                            rc_share=rc_share)
    model = EnhancerNet(cfg).eval()
    folder.mkdir(parents=True, exist_ok=True)
    save_model_dir(folder, kind="enhancernet", config=cfg.as_dict(), tensors=model.state_dict(),
                   calibration=Calibration(2.0, 0.5), provenance_info={"test": True},
                   window={"width": width} if window else None)
    return folder


def train_tokenizer(path: Path, seed: int = 0, vocab_size: int = 64) -> Path:
    """A small DNABERT-2-layout BPE tokenizer trained on random DNA."""
    from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe

    rng = random.Random(seed)
    save_tokenizer(train_bpe([random_seq(rng, 200) for _ in range(50)], vocab_size), path)
    return path


def make_dnabert2_dir(folder: Path, plain_hf: bool = False, width: int = 60, seed: int = 0,
                      calibration: tuple[float, float] = (1.5, 0.4)) -> Path:
    """A random tiny DNABERT-2 (hidden 64, 2 layers). ``plain_hf``: the Hugging Face layout only
    (config.json, model.safetensors, tokenizer.json); else a model directory with model.json and
    calibration.json."""
    import torch

    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification
    from enhancer_tools.tokenize.encode import load_tokenizer

    tok = train_tokenizer(folder.parent / f"{folder.name}-tokenizer.json", seed)
    torch.manual_seed(seed)
    config = DNABERT2Config.tiny(vocab_size=load_tokenizer(tok).get_vocab_size(), hidden_dropout_prob=0.0)
    model = DNABERT2ForSequenceClassification(config).eval()
    model.save_pretrained(folder, tokenizer_json=tok)
    if not plain_hf:
        (folder / "model.json").write_text(json.dumps(
            {"kind": "dnabert2", "format_version": 1, "window": {"width": width, "edge": "drop"}, "max_length": 128}))
        (folder / "calibration.json").write_text(json.dumps(
            {"temperature": calibration[0], "threshold": calibration[1], "chosen_on": "validation"}))
    return folder


def write_fasta(path: Path, records, with_label: bool = True, region: bool = False) -> Path:
    """Write (id, label, seq) records; ``region`` adds region=chrN:i*100-(i*100+len)(.)."""
    with open(path, "w") as fh:
        for i, (rec_id, label, seq) in enumerate(records):
            attrs = f" label={label}" if with_label else ""
            if region:
                attrs += f" region=chr1:{i * 100}-{i * 100 + len(seq)}(.)"
            fh.write(f">{rec_id}{attrs}\n{seq}\n")
    return path


def random_records(n: int, length: int, seed: int = 1) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    return [(f"r{i}", i % 2, random_seq(rng, length, "ACGTACGTacgtN" if i % 7 == 3 else "ACGT")) for i in range(n)]


def run_cli(args, **kwargs):
    """Run score-regions in-process; returns click's Result."""
    from enhancer_tools.cli.score_regions import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def read_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = Path(path).read_text().splitlines()
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def write_genome(path: Path, seed: int = 5, n_block: tuple[int, int] | None = (300, 700)) -> dict[str, str]:
    """chr1 1200 bp (N from ``n_block``), chr2 900 bp, chrM 50 bp; returns the sequences."""
    rng = random.Random(seed)
    chroms = {"chr1": random_seq(rng, 1200), "chr2": random_seq(rng, 900).lower(), "chrM": random_seq(rng, 50)}
    if n_block:
        a, b = n_block
        chroms["chr1"] = chroms["chr1"][:a] + "N" * (b - a) + chroms["chr1"][b:]
    with open(path, "w") as fh:
        for name, seq in chroms.items():
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i:i + 60] + "\n")
    return chroms
