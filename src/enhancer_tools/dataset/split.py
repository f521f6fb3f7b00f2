"""Leakage-free train/val/test assignment.

Records are first grouped: the same canonical sequence (exact or reverse complement, any case)
is one group, and with near-duplicate grouping, vsearch clusters join groups. A group never
straddles two splits. The default split is class-stratified and random (seeded); the
alternative holds out whole chromosomes (from ``region=`` in the headers).
"""

from __future__ import annotations

import re

import numpy as np

from enhancer_tools.dataset.dedup import Inputs, first_of_groups, iter_sequences
from enhancer_tools.dataset.scan import iter_batches
from enhancer_tools.errors import UserError

SPLITS = ("train", "val", "test")
_REGION_CHROM = re.compile(rb"(?:^| )region=([^:\s]+):")


def record_groups(inputs: Inputs, near_identity: float | None = None, threads: int = 1) -> np.ndarray:
    """Group index (the index of the group's first record) for every record."""
    keys = inputs.column("keys")
    group = first_of_groups(keys)
    if near_identity is not None:
        from enhancer_tools.dataset.near_duplicates import cluster

        heads = group == np.arange(len(group))
        centroid = cluster(((i, s) for i, _, s in iter_sequences(inputs, heads)), near_identity, threads)
        lowest: dict[int, int] = {}
        for i, c in centroid.items():
            lowest[c] = min(lowest.get(c, i), i)
        near = np.arange(len(group))
        for i, c in centroid.items():
            near[i] = lowest[c]
        group = near[group]
    return group


def integer_targets(n: int, fractions: list[float]) -> np.ndarray:
    """Counts summing to ``n``, each within one of fraction * n (largest remainders first)."""
    exact = np.array(fractions) * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def stratified_split(group: np.ndarray, label: np.ndarray, fractions: list[float], seed: int) -> np.ndarray:
    """Split index per record: each class divided by ``fractions`` (within one record where the
    groups allow it), whole groups only, random but fixed by ``seed``.

    Groups of several records are placed first, largest first, each in a split drawn among
    those where it still fits whole (probability proportional to the room left there); single
    records then fill every split up to its target.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(label)
    cls = np.searchsorted(classes, label)
    need = np.stack([integer_targets(int((cls == c).sum()), fractions) for c in range(len(classes))], axis=1)
    split = np.full(len(group), -1, np.int64)
    sizes = np.bincount(group, minlength=len(group))
    multi = np.flatnonzero(sizes > 1)
    if len(multi):
        order = rng.permutation(len(group))
        members_of: dict[int, list[int]] = {}
        for i in order[np.isin(group[order], multi)].tolist():
            members_of.setdefault(int(group[i]), []).append(i)
        for head in sorted(members_of, key=lambda h: -len(members_of[h])):
            members = members_of[head]
            count = np.bincount(cls[members], minlength=len(classes))
            fits = (count[None, :] <= need).all(axis=1)
            if fits.any():
                weight = (need @ count) * fits
                s = int(rng.choice(len(weight), p=weight / weight.sum()))
            else:
                s = int(np.argmax(np.minimum(count[None, :], np.maximum(need, 0)).sum(axis=1)))
            split[members] = s
            need[s] -= count
    for c in range(len(classes)):
        free = np.flatnonzero((split < 0) & (cls == c))
        free = free[rng.permutation(len(free))]
        cuts = np.cumsum(np.maximum(need[:, c], 0))
        cuts[-1] = len(free)
        for s, part in enumerate(np.split(free, cuts[:-1].clip(max=len(free)))):
            split[part] = s
    return split


def record_chromosomes(inputs: Inputs) -> list[str]:
    """The chromosome of every record from ``region=chrom:start-end`` in its header."""
    chroms: list[str] = []
    for f, path in enumerate(inputs.paths):
        for batch in iter_batches(path, inputs.default_labels[f], inputs.records[f].start is not None):
            for j, header in enumerate(batch.headers):
                m = _REGION_CHROM.search(header)
                if m is None:
                    line = batch.lines[j] if batch.lines else 2 * (len(chroms) - int(inputs.offsets[f])) + 1
                    raise UserError("--holdout-chroms needs region=chrom:start-end in every header; this one has none", path, line)
                chroms.append(m.group(1).decode())
    return chroms


def holdout_split(group: np.ndarray, chroms: list[str], holdout: dict[str, set[str]]) -> tuple[np.ndarray, int]:
    """Split index per record by chromosome (``holdout`` maps 'val'/'test' to chromosome sets;
    the rest is train). A group spread over several splits goes whole to the most held-out one
    (test, then val); returns (split, number of records moved for that)."""
    by_chrom = {c: SPLITS.index(name) for name, cs in holdout.items() for c in cs}
    split = np.array([by_chrom.get(c, 0) for c in chroms], np.int64)
    strictest = np.zeros(len(group), np.int64)
    np.maximum.at(strictest, group, split)
    final = strictest[group]
    return final, int((final != split).sum())
