"""Shared helpers for the fasta-rc-dedup and dataset-split tests."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from click.testing import CliRunner

from enhancer_tools.seq import reverse_complement

TEST_DATA = Path(__file__).resolve().parents[1] / "test-data"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def invoke(command, args):
    """Run a click command in-process; returns click's Result (exit_code, output, stderr)."""
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


def write_fasta(path: Path, records, *, crlf: bool = False, width: int = 0, gz: bool = False) -> Path:
    """Write (header, seq) pairs as FASTA; ``width`` wraps, ``crlf`` uses CRLF, ``gz`` gzips."""
    nl = "\r\n" if crlf else "\n"
    parts = []
    for header, seq in records:
        parts.append(f">{header}{nl}")
        chunks = [seq[i : i + width] for i in range(0, len(seq), width)] if width else [seq]
        parts.extend(c + nl for c in chunks)
    data = "".join(parts).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read_records(path: Path) -> list[tuple[str, str]]:
    """(header, seq) pairs of a one-line-per-sequence FASTA."""
    lines = path.read_text().splitlines()
    return [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines), 2)]


def random_seq(rng: random.Random, n: int, alphabet: str = "ACGT") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def dataset_with_duplicates(rng: random.Random, n: int, length: int = 60, prefix: str = "s"):
    """(header, seq) records with planted exact, reverse-complement and case-changed copies."""
    base = [random_seq(rng, length, "ACGTacgtN" if i % 7 == 0 else "ACGT") for i in range(n)]
    records = []
    for i, seq in enumerate(base):
        records.append((f"{prefix}{i} label={i % 2}", seq))
        if i % 5 == 0:
            records.append((f"{prefix}{i}x label={i % 2}", seq.lower()))
        if i % 6 == 0:
            records.append((f"{prefix}{i}r label={i % 2}", reverse_complement(seq)))
    rng.shuffle(records)
    return records
