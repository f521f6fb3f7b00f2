"""Synthetic labelled FASTA for trainer tests: random background (label=0) vs the same background
with planted transcription-factor motifs (label=1)."""

from __future__ import annotations

import random
from pathlib import Path

MOTIFS = ("TGACTCA", "CACGTG", "GGGGCGGGGC", "TTGCGCAA")


def _complement(seq: str) -> str:
    return seq.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def make_records(n: int, length: int, seed: int, n_motifs: int = 3) -> list[tuple[str, int, str]]:
    """(id, label, sequence) records, half positive, shuffled."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = i % 2
        seq = [rng.choice("AACCGGTTA") for _ in range(length)]
        if label:
            for _ in range(n_motifs):
                motif = rng.choice(MOTIFS)
                motif = motif if rng.random() < 0.5 else _complement(motif)
                pos = rng.randrange(0, length - len(motif))
                seq[pos:pos + len(motif)] = motif
        out.append((f"s{seed}_{i}", label, "".join(seq)))
    rng.shuffle(out)
    return out


def write_fasta(path: Path, records) -> Path:
    with open(path, "w") as fh:
        for rec_id, label, seq in records:
            fh.write(f">{rec_id} label={label}\n{seq}\n")
    return path


def make_split(folder: Path, n_train: int = 200, n_val: int = 100, length: int = 100, n_motifs: int = 3) -> tuple[Path, Path]:
    """train.fa and val.fa in ``folder``."""
    train = write_fasta(folder / "train.fa", make_records(n_train, length, 1, n_motifs))
    val = write_fasta(folder / "val.fa", make_records(n_val, length, 2, n_motifs))
    return train, val
