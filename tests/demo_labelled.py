"""Labelled train/val FASTA from the synthetic demo genome (enhancer_tools.demo): summit windows
of the demo peaks (label=1, bed-summit-window) and random genome windows clear of every peak and
of N gaps (label=0, a stand-in for background-windows); the last chromosome is validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from enhancer_tools.cli.bed_summit_window import main as bed_summit_window
from enhancer_tools.demo import make_demo
from enhancer_tools.io.dataset import read_dataset
from enhancer_tools.io.fasta import read_fasta
from enhancer_tools.io.intervals import read_intervals


def make_demo_split(folder: Path, width: int = 1000, negatives_per_positive: float = 1.0, seed: int = 1) -> tuple[Path, Path]:
    demo = folder / "demo"
    demo.mkdir()
    make_demo(demo, seed=seed, scale="full")
    windows = folder / "windows.fa"
    result = CliRunner().invoke(bed_summit_window, [str(demo / "peaks.narrowPeak"), "-g", str(demo / "genome.fa"),
                                                    "-o", str(windows), "--width", str(width), "--quiet"])
    assert result.exit_code == 0, result.output
    genome = {r.id: r.seq for r in read_fasta(demo / "genome.fa")}
    chroms = list(genome)
    peaks = {c: [] for c in chroms}
    for iv in read_intervals(demo / "peaks.narrowPeak"):
        peaks[iv.chrom].append((iv.start, iv.end))
    rng = np.random.default_rng(seed)
    split = {"train": [], "val": []}
    for rec in read_dataset(windows):
        chrom = rec.attrs["region"].split(":")[0]
        split["val" if chrom == chroms[-1] else "train"].append((rec.id, 1, rec.seq))
    n_neg = int(sum(len(v) for v in split.values()) * negatives_per_positive)
    made = 0
    while made < n_neg:
        chrom = chroms[int(rng.integers(len(chroms)))]
        start = int(rng.integers(0, len(genome[chrom]) - width))
        if any(s < start + width + 200 and start - 200 < e for s, e in peaks[chrom]):
            continue
        seq = genome[chrom][start:start + width]
        if seq.upper().count("N") > 0.05 * width:
            continue
        split["val" if chrom == chroms[-1] else "train"].append((f"bg_{chrom}_{start}", 0, seq))
        made += 1
    paths = []
    for name in ("train", "val"):
        path = folder / f"{name}.fa"
        with open(path, "w") as fh:
            for rec_id, label, seq in split[name]:
                fh.write(f">{rec_id} label={label}\n{seq}\n")
        paths.append(path)
    return paths[0], paths[1]
