"""Motifs in the attributions (tfmodisco-lite) and their best known-motif matches (memelite's
TOMTOM, q-values by Benjamini-Hochberg over each pattern's comparisons with the database).

tfmodisco-lite wants sequences of one length: regions of different lengths are centre-cropped
to the shortest. Patterns are trimmed to their core before matching (``trim_to_core``; modisco's
own report keeps the whole span above ``TRIM`` of the maximum, which joins motifs that
co-occur at a fixed spacing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)

TRIM = 0.45


@dataclass
class Match:
    """A known motif matched to a pattern."""

    name: str
    family: str
    p: float
    q: float
    strand: str


@dataclass
class Pattern:
    """One modisco pattern: ``ppm`` and ``cwm`` [4, width] (trimmed), seqlet count, matches."""

    name: str
    seqlets: int
    ppm: np.ndarray
    cwm: np.ndarray
    matches: list[Match] = field(default_factory=list)


def centre_crop(arrays: list[np.ndarray]) -> np.ndarray:
    """[N, 4, L_min]: each [4, L] array centre-cropped to the shortest length."""
    shortest = min(a.shape[1] for a in arrays)
    return np.stack([a[:, (a.shape[1] - shortest) // 2:(a.shape[1] - shortest) // 2 + shortest] for a in arrays])


def trim_to_core(ppm: np.ndarray, cwm: np.ndarray, gap: int = 1, min_width: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The pattern's core: from its strongest column (sum of |contribution|) outwards while
    columns reach ``TRIM`` of that maximum, bridging at most ``gap`` weaker columns in a row,
    widened to ``min_width``. A pattern of two motifs that co-occur at a fixed spacing keeps
    the stronger one, which is what a known-motif database can match."""
    score = np.abs(cwm).sum(axis=0)
    strong = score >= score.max() * TRIM
    top = int(score.argmax())
    lo = hi = top
    for step, edge in ((-1, 0), (1, len(score) - 1)):
        pos, weak = top, 0
        while pos != edge and weak <= gap:
            pos += step
            weak = 0 if strong[pos] else weak + 1
            if strong[pos]:
                lo, hi = min(lo, pos), max(hi, pos)
    while hi - lo + 1 < min(min_width, len(score)):
        lo, hi = (lo - 1, hi) if lo > 0 and (hi == len(score) - 1 or score[lo - 1] >= score[hi + 1]) else (lo, hi + 1)
    return ppm[:, lo:hi + 1], cwm[:, lo:hi + 1]


def find_patterns(one_hot: np.ndarray, hypothetical: np.ndarray, max_seqlets: int = 2000, window: int = 15,
                  min_cluster: int = 20) -> list[Pattern]:
    """tfmodisco-lite on [N, 4, L] one-hot sequences and hypothetical contributions; positive
    then negative patterns, named 'pos_0', 'neg_0', ... (empty when no seqlet cluster is big enough)."""
    import modiscolite

    if one_hot.shape[0] < 2:
        raise UserError("--modisco needs at least 2 regions")
    try:
        pos, neg = modiscolite.tfmodisco.TFMoDISco(
            one_hot=np.ascontiguousarray(one_hot.transpose(0, 2, 1), dtype=np.float32),
            hypothetical_contribs=np.ascontiguousarray(hypothetical.transpose(0, 2, 1), dtype=np.float32),
            sliding_window_size=window, flank_size=5, max_seqlets_per_metacluster=max_seqlets,
            min_metacluster_size=min_cluster, final_min_cluster_size=min_cluster, n_leiden_runs=8)
    except IndexError:  # seqlet extraction's null distribution is empty: too little sequence
        log.warning("tfmodisco-lite could not call seqlets in %d regions of %d bp (too little sequence)",
                    *one_hot.shape[::2])
        return []
    patterns = []
    for sign, found in (("pos", pos), ("neg", neg)):
        for i, pattern in enumerate(found or []):
            ppm, cwm = trim_to_core(np.asarray(pattern.sequence).T, np.asarray(pattern.contrib_scores).T)
            patterns.append(Pattern(f"{sign}_{i}", len(pattern.seqlets), ppm, cwm))
    return patterns


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of one row of p-values."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def match_patterns(patterns: list[Pattern], motifs, top: int = 3, threads: int = 1) -> None:
    """Fill each pattern's ``matches`` with its ``top`` TOMTOM matches in ``motifs`` (by p-value)."""
    import warnings

    from memelite.tomtom import tomtom

    if not patterns:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the few-targets warning: a user's small MEME file is their choice
        p, _, _, _, strands = tomtom([pt.ppm for pt in patterns], [m.matrix for m in motifs], n_jobs=threads)
    p = np.nan_to_num(np.asarray(p, dtype=np.float64), nan=1.0)
    for i, pattern in enumerate(patterns):
        q = bh_qvalues(p[i])
        for j in np.argsort(p[i])[:top]:
            pattern.matches.append(Match(motifs[j].name, motifs[j].family, float(p[i, j]), float(q[j]),
                                         "-" if int(strands[i, j]) else "+"))
