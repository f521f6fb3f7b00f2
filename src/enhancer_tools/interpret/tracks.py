"""Genome tracks of explain-regions' attributions: one bigWig per method when the regions came
from ``--bed`` and ``--genome``.

Each base gets its reference base's contribution: integrated gradients at the base present
(IG is zero on the other three channels), and for ISM the hypothetical contribution of the
reference base (its effect 0 minus the mean of the four effects: high where every
substitution lowers the score). Windows cut from --bed are forward-strand sequence, so base j
of a window is genome position start + j. Where windows overlap, the track holds the mean of
their values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from enhancer_tools.io.dataset import Region


def base_values(values: np.ndarray, seq: str) -> np.ndarray:
    """[L] contribution of the base present at each position of a [4, L] attribution."""
    from enhancer_tools.models.attribution import one_hot

    return (values * one_hot(seq)).sum(axis=0)


def genome_track(regions: Sequence[Region | None], per_base: Sequence[np.ndarray], offset: int,
                 sizes: Mapping[str, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """chrom -> (sorted 0-based positions, mean value) of the per-base values of each region
    (``per_base[i][j]`` is base ``offset + j`` of region i, a forward-strand window)."""
    positions: dict[str, list[np.ndarray]] = defaultdict(list)
    values: dict[str, list[np.ndarray]] = defaultdict(list)
    for region, v in zip(regions, per_base):
        if region is None or region.chrom not in sizes:
            continue
        pos = region.start + np.arange(offset, offset + len(v))
        keep = (pos >= 0) & (pos < sizes[region.chrom])
        positions[region.chrom].append(pos[keep])
        values[region.chrom].append(np.asarray(v, dtype=np.float64)[keep])
    track = {}
    for chrom, chunks in positions.items():
        pos = np.concatenate(chunks)
        unique, inverse = np.unique(pos, return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate(values[chrom]))
        track[chrom] = (unique, total / np.bincount(inverse))
    return track


def write_bigwig(path: str, track: Mapping[str, tuple[np.ndarray, np.ndarray]], sizes: Mapping[str, int]) -> None:
    """One bigWig (pyBigWig): a 1-bp entry per covered base, chromosomes in genome order."""
    from enhancer_tools.scoring.writers import require_pybigwig

    bw = require_pybigwig().open(path, "w")
    try:
        bw.addHeader(list(sizes.items()))
        for chrom in sizes:
            if chrom in track:
                pos, val = track[chrom]
                bw.addEntries([chrom] * len(pos), pos.tolist(), ends=(pos + 1).tolist(), values=val.tolist())
    finally:
        bw.close()
