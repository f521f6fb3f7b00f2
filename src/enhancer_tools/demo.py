"""Deterministic synthetic demo data: a small genome with planted enhancers and their peaks.

``python -m enhancer_tools.demo --out DIR [--seed 1] [--scale full|small]`` writes
``DIR/genome.fa`` (60-bp lines, with ``genome.fa.fai``) and ``DIR/peaks.narrowPeak``.

The genome imitates the features the tools must cope with: about 41% GC with isochore-like
blocks and CpG depletion, soft-masked (lowercase) diverged repeat copies and microsatellites,
N gaps inside chromosomes and at some chromosome ends. Enhancers are clusters of colorectal
transcription-factor motifs (TCF7L2/LEF1, AP-1, CDX2, HNF4A, GATA6) in a few fixed orders,
10-40 bp apart, in random orientation, with base mutations and dropped motifs. Decoys (one
motif, or a few motifs in shuffled order and loose spacing) sit in the background and are not
peaks, so a model has to learn more than "a motif is present". Each enhancer gives one
narrowPeak row whose summit lies near the cluster centre; a few peaks lie within 500 bp of a
chromosome end and a few have no summit (-1). Everything depends only on the seed and scale.
"""

from __future__ import annotations

import bisect
import logging
import os
from dataclasses import dataclass

import click
import numpy as np

from enhancer_tools.cli.common import tool_command
from enhancer_tools.io.atomic import AtomicOutputs

log = logging.getLogger(__name__)
LINE_WIDTH = 60
_ASCII = np.frombuffer(b"CGAT", dtype=np.uint8)  # code order: C, G, A, T (see _random_bases)
_LOWER = 0x20
_N = ord("N")

# IUPAC consensus of each motif (forward orientation).
MOTIFS: dict[str, str] = {
    "TCF7L2": "ASATCAAAGS",  # TCF7L2/LEF1 core ATCAAAG (CTTTGAT)
    "AP1": "ATGASTCAT",  # AP-1 TGASTCA
    "CDX2": "NTTTATKRC",  # CDX2 TTTATKRC
    "HNF4A": "GGTCAAAGKTCA",  # HNF4A DR1
    "GATA6": "NWGATARN",  # GATA6 WGATAR
}
# Enhancer grammars: the motif order of each enhancer class (orientation is random per motif).
GRAMMARS: tuple[tuple[str, ...], ...] = (
    ("TCF7L2", "CDX2", "TCF7L2", "AP1"),
    ("CDX2", "HNF4A", "GATA6", "CDX2"),
    ("AP1", "TCF7L2", "AP1", "HNF4A"),
    ("HNF4A", "TCF7L2", "GATA6", "AP1", "CDX2"),
)
_IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}


@dataclass(frozen=True)
class DemoSizes:
    """How big the demo is: chromosome lengths and how many sites of each kind to plant."""

    chrom_lengths: tuple[int, ...]
    n_enhancers: int
    n_decoys: int
    n_edge_peaks: int
    n_no_summit: int
    isochore_bp: int
    gap_bp: tuple[int, int]
    end_gap_bp: int


SCALES: dict[str, DemoSizes] = {
    "full": DemoSizes(
        chrom_lengths=(1_150_000, 1_050_000, 950_000, 850_000), n_enhancers=1200, n_decoys=800, n_edge_peaks=6,
        n_no_summit=6, isochore_bp=100_000, gap_bp=(500, 20_000), end_gap_bp=10_000,
    ),
    "small": DemoSizes(
        chrom_lengths=(80_000, 70_000, 50_000), n_enhancers=60, n_decoys=40, n_edge_peaks=4,
        n_no_summit=2, isochore_bp=20_000, gap_bp=(200, 2_000), end_gap_bp=1_000,
    ),
}

MOTIF_MUTATION = 0.03  # per-base substitution rate in planted motifs
MOTIF_DROP = 0.1  # chance that a motif of the grammar is left out
REPEAT_FRACTION = 0.4  # bases written as repeat copies; overlaps leave about a third masked
ENHANCER_SPACING = 1_100  # minimum distance between enhancer summits (windows do not overlap)
DECOY_SPACING = 1_000  # minimum distance of a decoy from an enhancer summit
FLANK_CLEAR = 600  # no N within this distance of a planted site


_SORTED_ACGT = np.frombuffer(b"ACGT", dtype=np.uint8)
_RC = np.zeros(256, dtype=np.uint8)
for _a, _b in zip(b"ACGTNacgtn", b"TGCANtgcan"):
    _RC[_a] = _b


def _random_bases(rng: np.random.Generator, n: int, gc) -> np.ndarray:
    """``n`` uppercase ASCII bases with G+C probability ``gc`` (a scalar or one value per base)."""
    u = rng.random(n, dtype=np.float32)
    gc = np.asarray(gc, dtype=np.float32)
    codes = (u >= gc / 2).astype(np.uint8) + (u >= gc) + (u >= gc + (1 - gc) / 2)
    return _ASCII[codes]


def _mutate(rng: np.random.Generator, seq: np.ndarray, rate: float) -> np.ndarray:
    """Substitute each base with probability ``rate`` by a different random base (case kept)."""
    seq = seq.copy()
    hit = np.flatnonzero(rng.random(len(seq)) < rate)
    if len(hit):
        upper = seq[hit] & ~np.uint8(_LOWER)
        shift = rng.integers(1, 4, len(hit))
        idx = (np.searchsorted(_SORTED_ACGT, upper) + shift) % 4
        seq[hit] = _SORTED_ACGT[idx] | (seq[hit] & np.uint8(_LOWER))
    return seq


def _revcomp(seq: np.ndarray) -> np.ndarray:
    return _RC[seq][::-1]


def _background(rng: np.random.Generator, length: int, block_bp: int) -> np.ndarray:
    """Isochore-like background: blocks of varying GC, then CpG depletion (C->T / G->A)."""
    bounds = [0]
    while bounds[-1] < length:
        bounds.append(bounds[-1] + int(rng.lognormal(np.log(block_bp), 0.5)) + 1)
    gc_levels = np.clip(rng.normal(0.44, 0.04, len(bounds) - 1), 0.35, 0.56)
    gc = np.repeat(gc_levels.astype(np.float32), np.diff(bounds))[:length]
    seq = _random_bases(rng, length, gc)
    cpg = np.flatnonzero((seq[:-1] == ord("C")) & (seq[1:] == ord("G")))
    cpg = cpg[rng.random(len(cpg)) < 0.75]
    to_t = rng.random(len(cpg)) < 0.5
    seq[cpg[to_t]] = ord("T")
    seq[cpg[~to_t] + 1] = ord("A")
    return seq


def _repeat_families(rng: np.random.Generator) -> list[tuple[np.ndarray, str, float]]:
    """Consensus sequences of SINE-, LINE- and LTR-like families: (codes, kind, weight)."""
    families = []
    for _ in range(6):
        cons = _random_bases(rng, int(rng.integers(260, 320)), 0.52)
        cons[-int(rng.integers(15, 30)):] = ord("A")  # poly-A tail
        families.append((cons, "sine", 0.35 / 6))
    for _ in range(3):
        families.append((_random_bases(rng, int(rng.integers(4000, 6000)), 0.38), "line", 0.45 / 3))
    for _ in range(6):
        families.append((_random_bases(rng, int(rng.integers(300, 1500)), 0.43), "ltr", 0.17 / 6))
    return families


_MICROSATELLITES = (b"CA", b"A", b"TTTA", b"GAA", b"AT", b"CCG", b"AAAG")


def _add_repeats(rng: np.random.Generator, seq: np.ndarray, families) -> None:
    """Overwrite about REPEAT_FRACTION of ``seq`` with diverged, soft-masked repeat copies."""
    length = len(seq)
    weights = np.array([w for _, _, w in families])
    weights /= weights.sum()
    budget = int(REPEAT_FRACTION * length)
    while budget > 0:
        if rng.random() < 0.04:
            unit = _MICROSATELLITES[int(rng.integers(len(_MICROSATELLITES)))]
            n = int(rng.integers(20, 80))
            copy = np.frombuffer((unit * (n // len(unit) + 1))[:n], dtype=np.uint8)
            copy = _mutate(rng, copy, 0.03)
        else:
            cons, kind, _ = families[int(rng.choice(len(families), p=weights))]
            if kind == "line":  # 5'-truncated copies
                start = int(len(cons) - min(len(cons), rng.lognormal(np.log(900), 0.8)))
                copy = cons[start:]
            else:
                start = int(rng.integers(0, max(1, len(cons) // 5)))
                copy = cons[start:]
            copy = _mutate(rng, copy, float(rng.uniform(0.04, 0.22)))
            if rng.random() < 0.5:
                copy = _revcomp(copy)
        if len(copy) >= length:
            continue
        pos = int(rng.integers(0, length - len(copy)))
        seq[pos : pos + len(copy)] = copy | np.uint8(_LOWER)
        budget -= len(copy)


def _add_gaps(rng: np.random.Generator, seq: np.ndarray, index: int, sizes: DemoSizes) -> None:
    """N runs: one or two inside the chromosome, and at some ends by a fixed pattern
    (chromosome 1 at its start, 3 at its end, 2 and 4 none) so that most ends stay sequence
    and can carry an edge peak."""
    length = len(seq)
    for _ in range(1 + int(rng.random() < 0.5)):
        size = int(rng.integers(*sizes.gap_bp))
        pos = int(rng.integers(length // 10, length - length // 10 - size))
        seq[pos : pos + size] = _N
    pattern = index % 4
    end_gap = int(sizes.end_gap_bp * rng.uniform(0.5, 1.5))
    if pattern == 0:
        seq[:end_gap] = _N
    elif pattern == 2:
        seq[length - end_gap :] = _N


def make_genome(rng: np.random.Generator, sizes: DemoSizes) -> list[tuple[str, np.ndarray]]:
    """Chromosomes ``chr1..chrK`` as ASCII byte arrays (lowercase = repeats, N = gaps)."""
    families = _repeat_families(rng)
    genome = []
    for i, length in enumerate(sizes.chrom_lengths):
        seq = _background(rng, length, sizes.isochore_bp)
        _add_repeats(rng, seq, families)
        _add_gaps(rng, seq, i, sizes)
        genome.append((f"chr{i + 1}", seq))
    return genome


def _sample_motif(rng: np.random.Generator, name: str) -> np.ndarray:
    """One instance of a motif: IUPAC positions drawn at random, mutated, random orientation."""
    letters = [_IUPAC[c] for c in MOTIFS[name]]
    picks = rng.integers(0, 12, len(letters))  # 12 is divisible by 1-4: uniform over each code's bases
    site = np.frombuffer("".join(opts[p % len(opts)] for opts, p in zip(letters, picks)).encode(), dtype=np.uint8)
    site = _mutate(rng, site, MOTIF_MUTATION)
    return _revcomp(site) if rng.random() < 0.5 else site


def _cluster(rng: np.random.Generator, names: list[str], gap: tuple[int, int]) -> tuple[list[int], list[np.ndarray], int]:
    """Motif instances laid out left to right with random gaps: (offsets, sites, span)."""
    sites = [_sample_motif(rng, n) for n in names]
    offsets, pos = [], 0
    for i, site in enumerate(sites):
        if i:
            pos += int(rng.integers(*gap))
        offsets.append(pos)
        pos += len(site)
    return offsets, sites, pos


def _enhancer_motifs(rng: np.random.Generator) -> list[str]:
    """A grammar's motifs with some dropped and one to three extra ones inserted anywhere."""
    grammar = GRAMMARS[int(rng.integers(len(GRAMMARS)))]
    names = [m for m in grammar if rng.random() >= MOTIF_DROP]
    for _ in range(1 + int(rng.choice(3, p=[0.4, 0.4, 0.2]))):
        names.insert(int(rng.integers(0, len(names) + 1)), str(rng.choice(list(MOTIFS))))
    return names


def _decoy_motifs(rng: np.random.Generator) -> list[str]:
    """One motif, or two or three of a grammar's motifs in shuffled order."""
    if rng.random() < 0.55:
        return [str(rng.choice(list(MOTIFS)))]
    grammar = list(GRAMMARS[int(rng.integers(len(GRAMMARS)))])
    k = int(rng.integers(2, 4))
    return [grammar[i] for i in rng.permutation(len(grammar))[:k]]


def _paste(seq: np.ndarray, pos: int, site: np.ndarray) -> None:
    """Write ``site`` at ``pos`` keeping the case (soft-masking) of the bases it replaces."""
    target = seq[pos : pos + len(site)]
    seq[pos : pos + len(site)] = site | (target & np.uint8(_LOWER))


def _plant(seq: np.ndarray, centre: int, offsets, sites, span: int) -> None:
    left = centre - span // 2
    for off, site in zip(offsets, sites):
        _paste(seq, left + off, site)


class _Sites:
    """Planted site centres per chromosome (sorted), for the spacing rules."""

    def __init__(self) -> None:
        self.enhancers: dict[str, list[int]] = {}
        self.decoys: dict[str, list[int]] = {}

    @staticmethod
    def _near(points: list[int], pos: int, dist: int) -> bool:
        i = bisect.bisect_left(points, pos)
        return (i < len(points) and points[i] - pos < dist) or (i > 0 and pos - points[i - 1] < dist)

    def free_for_enhancer(self, chrom: str, pos: int) -> bool:
        return not self._near(self.enhancers.get(chrom, []), pos, ENHANCER_SPACING) and not self._near(
            self.decoys.get(chrom, []), pos, DECOY_SPACING
        )

    def free_for_decoy(self, chrom: str, pos: int) -> bool:
        return not self._near(self.enhancers.get(chrom, []), pos, DECOY_SPACING) and not self._near(
            self.decoys.get(chrom, []), pos, 300
        )


def _clear_of_n(n_prefix: np.ndarray, lo: int, hi: int) -> bool:
    lo, hi = max(lo, 0), min(hi, len(n_prefix) - 1)
    return n_prefix[hi] - n_prefix[lo] == 0


def plant_sites(rng: np.random.Generator, genome, sizes: DemoSizes) -> list[dict]:
    """Plant enhancers (returned as peak records) and decoys (not returned) into ``genome``."""
    names = [name for name, _ in genome]
    seqs = dict(genome)
    lengths = np.array([len(s) for _, s in genome], dtype=float)
    n_prefix = {
        name: np.concatenate([[0], np.cumsum((seq & ~np.uint8(_LOWER)) == _N)]) for name, seq in genome
    }
    sites = _Sites()
    peaks: list[dict] = []

    def try_enhancer(chrom: str, centre: int, edge: bool) -> bool:
        seq = seqs[chrom]
        if not sites.free_for_enhancer(chrom, centre):
            return False
        if not _clear_of_n(n_prefix[chrom], centre - FLANK_CLEAR, centre + FLANK_CLEAR):
            return False
        motifs = _enhancer_motifs(rng)
        offsets, instances, span = _cluster(rng, motifs, (10, 41))
        if span > 300 or centre - span // 2 < 0 or centre + span - span // 2 > len(seq):
            return False
        _plant(seq, centre, offsets, instances, span)
        bisect.insort(sites.enhancers.setdefault(chrom, []), centre)
        peaks.append({"chrom": chrom, "centre": centre, "n_motifs": len(motifs), "edge": edge})
        return True

    # Edge peaks first: one summit 170-480 bp from each of some chromosome ends that are
    # sequence, not N (two at one end would overlap).
    ends = [(c, side) for c in names for side in (0, 1) if seqs[c][0 if side == 0 else -1] != _N]
    if sizes.n_edge_peaks > len(ends):
        raise ValueError(f"only {len(ends)} chromosome ends can carry an edge peak, not {sizes.n_edge_peaks}")
    for k in rng.permutation(len(ends))[: sizes.n_edge_peaks]:
        chrom, side = ends[k]
        while True:
            dist = int(rng.integers(170, 481))
            if try_enhancer(chrom, dist if side == 0 else len(seqs[chrom]) - dist, edge=True):
                break

    probs = lengths / lengths.sum()
    while len(peaks) < sizes.n_enhancers:
        chrom = names[int(rng.choice(len(names), p=probs))]
        length = len(seqs[chrom])
        try_enhancer(chrom, int(rng.integers(FLANK_CLEAR, length - FLANK_CLEAR)), edge=False)

    n_decoys = 0
    while n_decoys < sizes.n_decoys:
        chrom = names[int(rng.choice(len(names), p=probs))]
        length = len(seqs[chrom])
        centre = int(rng.integers(FLANK_CLEAR, length - FLANK_CLEAR))
        if not sites.free_for_decoy(chrom, centre) or not _clear_of_n(n_prefix[chrom], centre - 300, centre + 300):
            continue
        offsets, instances, span = _cluster(rng, _decoy_motifs(rng), (60, 200))
        _plant(seqs[chrom], centre, offsets, instances, span)
        bisect.insort(sites.decoys.setdefault(chrom, []), centre)
        n_decoys += 1
    return peaks


def peak_rows(rng: np.random.Generator, peaks: list[dict], genome, sizes: DemoSizes) -> list[list]:
    """narrowPeak rows (10 columns, sorted by chromosome and start) for the planted enhancers."""
    lengths = {name: len(seq) for name, seq in genome}
    inner = [i for i, p in enumerate(peaks) if not p["edge"]]
    no_summit = set(rng.choice(inner, size=sizes.n_no_summit, replace=False).tolist())
    rows = []
    for i, p in enumerate(peaks):
        width = int(np.clip(rng.lognormal(np.log(400), 0.35), 150, 2500))
        if i in no_summit:  # the peak's midpoint is the cluster centre
            summit, left = p["centre"], width // 2
        else:
            summit = p["centre"] + int(np.clip(round(rng.normal(0, 12)), -40, 40))
            left = int(width * rng.uniform(0.3, 0.7))
        start = max(0, summit - left)
        end = min(lengths[p["chrom"]], start + width)
        summit = min(max(summit, start), end - 1)
        strength = p["n_motifs"] + rng.normal(0, 1)
        signal = float(np.exp(1.2 + 0.25 * strength + rng.normal(0, 0.2)))
        pvalue = float(max(2.0, 3.0 + 4.0 * signal + rng.normal(0, 2)))
        qvalue = float(max(1.3, pvalue - 1.5 - rng.uniform(0, 1)))
        score = int(min(1000, round(10 * pvalue)))
        offset = -1 if i in no_summit else summit - start
        rows.append([p["chrom"], start, end, score, signal, pvalue, qvalue, offset])
    chrom_order = {name: k for k, (name, _) in enumerate(genome)}
    rows.sort(key=lambda r: (chrom_order[r[0]], r[1]))
    return [[r[0], r[1], r[2], f"demo_peak_{k + 1:04d}", r[3], ".", *r[4:]] for k, r in enumerate(rows)]


def _fasta_bytes(name: str, seq: np.ndarray) -> bytes:
    full = len(seq) // LINE_WIDTH * LINE_WIDTH
    body = seq[:full].reshape(-1, LINE_WIDTH)
    lines = np.hstack([body, np.full((len(body), 1), ord("\n"), dtype=np.uint8)]).tobytes()
    tail = seq[full:].tobytes() + b"\n" if full < len(seq) else b""
    return b">" + name.encode() + b"\n" + lines + tail


def _format_row(row: list) -> str:
    chrom, start, end, name, score, strand, signal, pvalue, qvalue, offset = row
    return f"{chrom}\t{start}\t{end}\t{name}\t{score}\t{strand}\t{signal:.5f}\t{pvalue:.5f}\t{qvalue:.5f}\t{offset}\n"


def make_demo(out_dir: str | os.PathLike, seed: int = 1, scale: str | DemoSizes = "full") -> dict:
    """Write ``genome.fa`` (+ ``.fai``) and ``peaks.narrowPeak`` into ``out_dir`` (created if
    missing); return facts about what was written (sizes, counts, GC, masked and N fractions)."""
    import pysam

    sizes = SCALES[scale] if isinstance(scale, str) else scale
    rng = np.random.default_rng(seed)
    genome = make_genome(rng, sizes)
    peaks = plant_sites(rng, genome, sizes)
    rows = peak_rows(rng, peaks, genome, sizes)

    os.makedirs(out_dir, exist_ok=True)
    fasta_path = os.path.join(out_dir, "genome.fa")
    with AtomicOutputs() as out:
        tmp_fasta = out.path(fasta_path)
        with open(tmp_fasta, "wb") as fh:
            for name, seq in genome:
                fh.write(_fasta_bytes(name, seq))
        tmp_fai = out.path(fasta_path + ".fai")
        try:
            pysam.faidx(tmp_fasta)
            os.replace(tmp_fasta + ".fai", tmp_fai)
        finally:
            if os.path.exists(tmp_fasta + ".fai"):
                os.unlink(tmp_fasta + ".fai")
        with out.open(os.path.join(out_dir, "peaks.narrowPeak")) as fh:
            fh.writelines(_format_row(r) for r in rows)

    all_bases = np.concatenate([seq for _, seq in genome])
    upper = all_bases & ~np.uint8(_LOWER)
    gc = int(np.count_nonzero((upper == ord("G")) | (upper == ord("C"))))
    acgt = int(np.count_nonzero(upper != _N))
    return {
        "seed": seed,
        "chromosomes": {name: len(seq) for name, seq in genome},
        "genome_bp": len(all_bases),
        "gc_fraction": round(gc / acgt, 4),
        "soft_masked_fraction": round(float(np.count_nonzero(all_bases >= ord("a"))) / len(all_bases), 4),
        "n_fraction": round(1 - acgt / len(all_bases), 4),
        "peaks": len(rows),
        "decoys": sizes.n_decoys,
        "edge_peaks": sum(p["edge"] for p in peaks),
        "peaks_without_summit": sizes.n_no_summit,
        "files": {"genome": fasta_path, "peaks": os.path.join(out_dir, "peaks.narrowPeak")},
    }


@tool_command("demo-data", help="Write the deterministic synthetic demo genome and peaks into --out.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder (created if missing).")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed; the same seed gives the same bytes.")
@click.option("--scale", default="full", show_default=True, type=click.Choice(sorted(SCALES)),
              help="full: 4 chromosomes, 4 Mb, 1,200 peaks; small: 3 chromosomes, 200 kb, 60 peaks.")
def main(run, out_dir: str, seed: int, scale: str) -> None:
    """Command-line entry point."""
    facts = make_demo(out_dir, seed=seed, scale=scale)
    run.outputs.update(facts.pop("files"))
    run.counts.update({k: facts[k] for k in ("genome_bp", "peaks", "decoys", "edge_peaks", "peaks_without_summit")})
    run.extra["demo"] = facts
    log.info(
        "wrote %s (%d bp, GC %.3f) and %d peaks to %s",
        "genome.fa", facts["genome_bp"], facts["gc_fraction"], facts["peaks"], out_dir,
    )


if __name__ == "__main__":
    main()
