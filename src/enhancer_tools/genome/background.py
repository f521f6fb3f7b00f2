"""GC-matched background windows: random genome windows whose GC-content histogram matches
that of a set of positive sequences, avoiding the positives (plus a margin), a blacklist and
N-rich sequence.

Method: window starts are drawn uniformly over the allowed chromosomes (weighted by their
length; with ``match_chroms`` each chromosome gets the share of positives it has). Each
candidate's GC fraction (G+C over A+C+G+T) and N count come from cumulative sums over the
chromosome sequence, and its overlap with the merged exclusion intervals from a binary
search, all vectorised. Candidates fill a quota per GC bin (the positives' histogram times
``ratio``); bins that fill slowly get more draws in later rounds. Identical starts are
drawn once; different background windows may overlap each other. The result is
deterministic for a seed.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.genome import windows as W
from enhancer_tools.genome.records import assemble, const_block, digits_block, sequence_block

log = logging.getLogger(__name__)

_GC = np.zeros(256, dtype=bool)
_GC[[ord(c) for c in "GCgc"]] = True
_ACGT = np.zeros(256, dtype=bool)
_ACGT[[ord(c) for c in "ACGTacgt"]] = True
_IS_N = np.zeros(256, dtype=bool)
_IS_N[[ord("N"), ord("n")]] = True
_CHUNK = 1 << 23
_ROUNDS = 8
_BUDGET_FACTOR = 20  # at most this many candidate draws per requested window
_MAX_ROUND_DRAWS = 2_000_000  # bounds memory: about 100 bytes per draw


@dataclass
class BackgroundOptions:
    """What background-windows was asked to do (see the CLI's --help)."""

    width: int = W.DEFAULT_WIDTH
    ratio: float = 1.0
    seed: int = 1
    margin: int = 0
    gc_bins: int = 20
    max_n_frac: float = W.DEFAULT_MAX_N_FRAC
    match_chroms: bool = False
    chroms: str | None = None
    exclude_chroms: str | None = None
    blacklist: str | None = None
    label: str = "0"
    upper: bool = False


def gc_bin(gc: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of each GC fraction: ``bins`` equal bins over [0, 1], 1.0 in the last."""
    return np.minimum((gc * bins).astype(np.int64), bins - 1)


def like_profile(path: str) -> tuple[np.ndarray, dict[str, int]]:
    """GC fraction of every sequence in a labelled dataset (FASTA or TSV/CSV), and the number
    of records per chromosome named in their ``region=`` attributes."""
    from enhancer_tools.io.dataset import parse_region, read_dataset

    gcs = []
    per_chrom: dict[str, int] = {}
    for rec in read_dataset(path, require_label=False, unique_ids=False):
        seq = rec.seq.encode("ascii")
        n_gc = len(seq) - len(seq.translate(None, b"GCgc"))
        acgt = n_gc + len(seq) - len(seq.translate(None, b"ATat"))
        gcs.append(n_gc / acgt if acgt else 0.0)
        region = parse_region(rec.attrs.get("region", ""))
        if region is not None:
            per_chrom[region.chrom] = per_chrom.get(region.chrom, 0) + 1
    return np.array(gcs), per_chrom


def exclusion_intervals(exclude: str, blacklist: str | None, sizes: dict[str, int], margin: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Merged intervals to avoid, per chromosome: ``exclude`` widened by ``margin`` on both
    sides, plus ``blacklist`` (bedtools slop + merge through pybedtools)."""
    import pybedtools

    from enhancer_tools.io.intervals import read_intervals

    with tempfile.TemporaryDirectory(prefix="background-") as tmp:
        genome_file = os.path.join(tmp, "genome.sizes")
        with open(genome_file, "w") as fh:
            fh.writelines(f"{c}\t{n}\n" for c, n in sizes.items())
        clean = os.path.join(tmp, "exclude.bed")
        with open(clean, "w", buffering=1 << 20) as fh:
            for path in filter(None, (exclude, blacklist)):
                for iv in read_intervals(path):
                    if iv.chrom in sizes:
                        fh.write(f"{iv.chrom}\t{iv.start}\t{min(iv.end, sizes[iv.chrom])}\n")
        merged_path = os.path.join(tmp, "merged.bed")
        bed = pybedtools.BedTool(clean)
        if os.path.getsize(clean):
            bed.slop(b=margin, g=genome_file).sort().merge().saveas(merged_path)
        else:
            open(merged_path, "w").close()
        rows: dict[str, list[tuple[int, int]]] = {}
        with open(merged_path) as fh:
            for line in fh:
                c, s, e = line.split("\t")[:3]
                rows.setdefault(c, []).append((int(s), int(e)))
    return {c: (np.array([s for s, _ in v]), np.array([e for _, e in v])) for c, v in rows.items()}


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total``."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(-(exact - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _evaluate(fasta, chrom: str, length: int, starts: np.ndarray, width: int, excluded, max_n: float):
    """GC fraction and validity (no overlap with ``excluded``, N fraction within ``max_n``)
    of windows at sorted ``starts``; returns (gc, valid, overlaps, n_rich)."""
    ends = starts + width
    overlaps = np.zeros(len(starts), dtype=bool)
    if excluded is not None:
        ex_s, ex_e = excluded
        idx = np.searchsorted(ex_e, starts, side="right")
        inside = idx < len(ex_s)
        overlaps[inside] = ex_s[idx[inside]] < ends[inside]
    gc = np.zeros(len(starts))
    n_rich = np.zeros(len(starts), dtype=bool)
    j = 0
    while j < len(starts):
        lo = int(starts[j])
        hi = min(length, lo + _CHUNK + width)
        k = int(np.searchsorted(starts, hi - width, side="right"))
        seq = np.frombuffer(fasta.fetch(chrom, lo, hi).encode("ascii"), dtype=np.uint8)
        rel = starts[j:k] - lo
        cums = []
        for table in (_GC, _ACGT, _IS_N):
            cum = np.zeros(len(seq) + 1, dtype=np.int32)
            np.cumsum(table[seq], out=cum[1:])
            cums.append(cum[rel + width] - cum[rel])
        n_gc, n_acgt, n_n = cums
        gc[j:k] = np.where(n_acgt > 0, n_gc / np.maximum(n_acgt, 1), 0.0)
        n_rich[j:k] = n_n > max_n * width
        j = k
    return gc, ~overlaps & ~n_rich, overlaps, n_rich


def _draw_candidates(fasta, names, sizes, usable, group, group_total, quota, excluded, opts, max_n, rng, stats,
                     candidate_hist) -> list[list[np.ndarray]]:
    """Draw random windows on the chromosomes of ``group`` in rounds until every GC bin's ``quota``
    is met or the draw budget is spent; returns per bin the (chrom index, start) candidates.
    ``stats`` and ``candidate_hist`` are updated in place."""
    bins = opts.gc_bins
    pools: list[list[np.ndarray]] = [[] for _ in range(bins)]
    have = np.zeros(bins, dtype=np.int64)
    seen: dict[int, np.ndarray] = {}
    yield_frac = np.full(bins, 1.0 / bins)
    drawn = 0
    budget = max(_BUDGET_FACTOR * group_total, 100_000)
    group_usable = usable[group]
    candidate_seen = np.zeros(bins, dtype=np.int64)
    for _ in range(_ROUNDS):
        deficit = np.maximum(quota - have, 0)
        if drawn:  # a bin no draw has reached yet is not worth chasing: it is (nearly) absent here
            deficit[candidate_seen == 0] = 0
        if deficit.sum() == 0 or drawn >= budget:
            break
        draws = int(min(budget - drawn, _MAX_ROUND_DRAWS, max(1.5 * (deficit / yield_frac).max(), 10_000)))
        drawn += draws
        per_chrom = rng.multinomial(draws, group_usable / group_usable.sum())
        round_hist = np.zeros(bins, dtype=np.int64)
        for ci, m in zip(group, per_chrom.tolist()):
            if m == 0:
                continue
            starts = np.unique(rng.integers(0, usable[ci], m))
            chrom = names[ci]
            gc, valid, overlaps, n_rich = _evaluate(fasta, chrom, sizes[chrom], starts, opts.width, excluded.get(chrom), max_n)
            stats["candidates_drawn"] += m
            stats["candidates_overlapping_excluded"] += int(overlaps.sum())
            stats["candidates_n_rich"] += int((n_rich & ~overlaps).sum())
            starts, b = starts[valid], gc_bin(gc[valid], bins)
            round_hist += np.bincount(b, minlength=bins)
            if ci in seen:
                fresh = ~np.isin(starts, seen[ci])
                starts, b = starts[fresh], b[fresh]
                seen[ci] = np.concatenate([seen[ci], starts])
            else:
                seen[ci] = starts
            for k in np.unique(b).tolist():
                in_bin = starts[b == k]
                pools[k].append(np.stack([np.full(len(in_bin), ci), in_bin]))
                have[k] += len(in_bin)
        candidate_hist += round_hist
        candidate_seen += round_hist
        yield_frac = np.maximum(round_hist, 0.5) / draws
    return pools


def sample_background(fasta, like_gc: np.ndarray, like_chroms: dict[str, int], excluded: dict, opts: BackgroundOptions):
    """Choose GC-matched windows. Returns ``(chrom_index, starts, stats)`` sorted by genome
    position, where ``stats`` holds the histograms and counts for the run info."""
    from enhancer_tools.genome.reference import chrom_sizes

    sizes = chrom_sizes(fasta)
    names = list(sizes)
    chrom_filter = W.ChromFilter(opts.chroms, opts.exclude_chroms)
    usable = np.array([max(n - opts.width + 1, 0) if chrom_filter.keep(c) else 0 for c, n in sizes.items()], dtype=np.int64)
    if usable.sum() == 0:
        raise UserError(f"no chromosome is at least {opts.width} bp long and allowed by --chroms/--exclude-chroms")
    bins = opts.gc_bins
    like_hist = np.bincount(gc_bin(like_gc, bins), minlength=bins)
    total = int(round(opts.ratio * len(like_gc)))
    if opts.match_chroms:
        weights = np.array([like_chroms.get(c, 0) if usable[i] else 0 for i, c in enumerate(names)], dtype=float)
        if weights.sum() == 0:
            raise UserError("--match-chroms needs region=chrom:start-end attributes in --like on allowed chromosomes")
        groups = [[i] for i in np.flatnonzero(weights)]
        group_totals = _largest_remainder(weights[weights > 0], total)
    else:
        groups = [list(np.flatnonzero(usable))]
        group_totals = np.array([total])
    rng = np.random.default_rng(opts.seed)
    max_n = opts.max_n_frac if opts.max_n_frac < 1 else 1.0
    stats = {"candidates_drawn": 0, "candidates_overlapping_excluded": 0, "candidates_n_rich": 0}
    candidate_hist = np.zeros(bins, dtype=np.int64)
    chosen_chrom, chosen_start = [], []
    shortfall = np.zeros(bins, dtype=np.int64)
    for group, group_total in zip(groups, group_totals.tolist()):
        quota = _largest_remainder(like_hist.astype(float), group_total)
        pools = _draw_candidates(fasta, names, sizes, usable, group, group_total, quota, excluded, opts, max_n, rng,
                                 stats, candidate_hist)
        for k in np.flatnonzero(quota).tolist():
            pool = np.concatenate(pools[k], axis=1) if pools[k] else np.zeros((2, 0), dtype=np.int64)
            take = min(int(quota[k]), pool.shape[1])
            shortfall[k] += quota[k] - take
            pick = np.sort(rng.choice(pool.shape[1], take, replace=False))
            chosen_chrom.append(pool[0, pick])
            chosen_start.append(pool[1, pick])
    chrom_idx = np.concatenate(chosen_chrom) if chosen_chrom else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(chosen_start) if chosen_start else np.zeros(0, dtype=np.int64)
    order = np.lexsort((starts, chrom_idx))
    chrom_idx, starts = chrom_idx[order], starts[order]
    stats.update({
        "like_histogram": like_hist, "candidate_histogram": candidate_hist, "shortfall_by_bin": shortfall,
        "requested": total,
    })
    return chrom_idx, starts, stats


def write_background(fasta, chrom_idx: np.ndarray, starts: np.ndarray, opts: BackgroundOptions, fa_out, bed_out=None) -> np.ndarray:
    """Write the windows (sorted by position) as labelled FASTA (and BED6) to binary handles;
    returns the GC fraction of each written window."""
    from enhancer_tools.genome.reference import chrom_sizes

    sizes = chrom_sizes(fasta)
    names = list(sizes)
    width = opts.width
    gc_out = np.zeros(len(starts))
    bounds = np.flatnonzero(np.r_[True, chrom_idx[1:] != chrom_idx[:-1], True]) if len(starts) else np.array([0])
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        chrom = names[int(chrom_idx[a])]
        chrom_b = chrom.encode()
        j = a
        while j < b:
            lo = int(starts[j])
            hi = min(sizes[chrom], lo + _CHUNK + width)
            k = a + int(np.searchsorted(starts[a:b], hi - width, side="right"))
            block = np.frombuffer(fasta.fetch(chrom, lo, hi).encode("ascii"), dtype=np.uint8)
            s = starts[j:k]
            n = k - j
            rel = s - lo
            lengths = np.full(n, width)
            seqs, _ = sequence_block(block, rel, lengths, width, np.zeros(n, dtype=bool), opts.upper, count_n=False)
            gc_cum = np.zeros(len(block) + 1, dtype=np.int32)
            np.cumsum(_GC[block], out=gc_cum[1:])
            acgt_cum = np.zeros(len(block) + 1, dtype=np.int32)
            np.cumsum(_ACGT[block], out=acgt_cum[1:])
            n_acgt = acgt_cum[rel + width] - acgt_cum[rel]
            gc_out[j:k] = (gc_cum[rel + width] - gc_cum[rel]) / np.maximum(n_acgt, 1)
            s_txt, e_txt = digits_block(s), digits_block(s + width)
            region = [const_block(b" label=" + opts.label.encode() + b" region=" + chrom_b + b":", n), s_txt,
                      const_block(b"-", n), e_txt, const_block(b"(+)\n", n)]
            fa_out.write(assemble([const_block(b">bg_" + chrom_b + b":", n), s_txt, const_block(b"-", n), e_txt,
                                   *region, seqs, const_block(b"\n", n)]))
            if bed_out is not None:
                bed_out.write(assemble([const_block(chrom_b + b"\t", n), s_txt, const_block(b"\t", n), e_txt,
                                        const_block(b"\tbg_" + chrom_b + b":", n), s_txt, const_block(b"-", n), e_txt,
                                        const_block(b"\t0\t+\n", n)]))
            j = k
    return gc_out
