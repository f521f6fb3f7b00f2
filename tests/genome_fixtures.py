"""Hand-written tiny genomes and helpers for the window tools' tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

# chr1: 40 bp, mixed case; chr2: 30 bp starting with 10 N; chr3: 8 bp (shorter than most windows).
TINY_GENOME = {
    "chr1": "ACGTACGTAACCGGTTAACCggccaattGGAATTCCGGAA",
    "chr2": "NNNNNNNNNNACGTTGCAACGTTGCAACGT",
    "chr3": "ACGTTGCA",
}


def write_genome(folder: Path, chroms: dict[str, str] = TINY_GENOME, name: str = "genome.fa", width: int = 7) -> Path:
    """Write a wrapped FASTA (no index) and return its path."""
    path = folder / name
    with open(path, "w") as fh:
        for chrom, seq in chroms.items():
            fh.write(f">{chrom} test chromosome\n")
            for i in range(0, len(seq), width):
                fh.write(seq[i : i + width] + "\n")
    return path


def reference_window(centre: int, width: int, chrom_length: int, edge: str) -> tuple[int, int] | None:
    """The window ``(start, end)`` of ``width`` bp around ``centre``, or None when dropped: the
    placement rule and the chromosome-end policies written one window at a time, the reference
    for ``place_windows``."""
    start = centre - width // 2
    end = start + width
    if start >= 0 and end <= chrom_length:
        return start, end
    if edge == "drop":
        return None
    if edge == "shift":
        if width > chrom_length:
            return None
        start = 0 if start < 0 else chrom_length - width
        return start, start + width
    if edge == "clip":
        return max(start, 0), min(end, chrom_length)
    raise ValueError(f"unknown edge policy {edge!r}")


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def read_fasta_pairs(path: Path) -> list[tuple[str, str]]:
    """(header without '>', sequence) for a one-line-per-sequence FASTA."""
    lines = Path(path).read_text().splitlines()
    return [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines), 2)]


def invoke(main, args: list[str]):
    """Run a click command in-process; returns the click Result (stdout/stderr separate)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def bgzip(path: Path) -> Path:
    """bgzip-compress ``path`` with pysam; returns the .gz path."""
    import pysam

    out = Path(str(path) + ".gz")
    pysam.tabix_compress(str(path), str(out), force=True)
    return out


def rc(seq: str) -> str:
    return seq.translate(str.maketrans("ACGTNacgtn", "TGCANtgcan"))[::-1]
