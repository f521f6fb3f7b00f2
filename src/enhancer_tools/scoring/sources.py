"""What score-regions scores: records of a FASTA/TSV dataset, windows of BED regions, or tiles of
a genome, streamed one ``ScoreRecord`` at a time.

Every source knows its record count before scoring starts (FASTA: a validating pre-pass; BED:
the windows written; tiles: arithmetic), so ``--shard I/N`` can give shard I the contiguous
block of records ``[floor((I-1) n / N), floor(I n / N))`` of the unsharded order: the shards'
outputs, concatenated in shard order (TSV headers after the first dropped), are the unsharded
output. A tile's index counts tiles skipped for N, so shards never depend on the sequence.

Tiling: tiles of ``width`` bp start at 0, ``step``, ``2 step``, ... on each chromosome kept by
``--chroms``, as long as the whole tile fits (the last ``< step`` bp of a chromosome may stay
unscored; chromosomes shorter than a tile get none). A tile whose N fraction (either case)
exceeds ``max_n_frac`` is skipped (a gap in the track), with bed-summit-window's default
(``genome.windows.DEFAULT_MAX_N_FRAC``): the model never saw training windows with more N than
that.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC

log = logging.getLogger(__name__)

NO_COORDINATE = "."


@dataclass(slots=True)
class ScoreRecord:
    """One sequence to score; ``chrom``/``start``/``end`` are None when the input has no region."""

    id: str
    seq: str
    chrom: str | None = None
    start: int | None = None
    end: int | None = None
    label: str | None = None


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int = 1
    count: int = 1

    def block(self, n: int) -> tuple[int, int]:
        """The half-open range of record numbers (0-based) this shard scores out of ``n``."""
        return (self.index - 1) * n // self.count, self.index * n // self.count


def parse_shard(text: str | None) -> Shard:
    """``'I/N'`` (1 <= I <= N) -> Shard; None -> the whole input."""
    if text is None:
        return Shard()
    i, sep, n = text.partition("/")
    try:
        index, count = int(i), int(n)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise UserError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/8), not {text!r}")
    return Shard(index, count)


def _record_from_dataset(rec) -> ScoreRecord:
    from enhancer_tools.io.dataset import parse_region

    region = parse_region(rec.attrs["region"]) if "region" in rec.attrs else None
    if region is None:
        return ScoreRecord(rec.id, rec.seq, label=rec.label)
    return ScoreRecord(rec.id, rec.seq, region.chrom, region.start, region.end, rec.label)


class DatasetSource:
    """Records of a FASTA (or the dataset TSV/CSV layout); labels and ``region=`` are used when
    present. The constructor reads the whole file once to validate it and count records."""

    def __init__(self, path: str, unique_ids: bool = True, keep_labels: bool = True) -> None:
        from enhancer_tools.io.dataset import read_dataset

        self.path, self.unique_ids, self.keep_labels = path, unique_ids, keep_labels
        self.count = 0
        labelled = False
        for rec in read_dataset(path, require_label=False, unique_ids=unique_ids):
            self.count += 1
            labelled = labelled or rec.label is not None
        if self.count == 0:
            raise UserError("no sequences to score", path)
        self.has_labels = labelled and keep_labels

    def records(self, shard: Shard = Shard()) -> Iterator[ScoreRecord]:
        """The shard's records in file order."""
        from enhancer_tools.io.dataset import read_dataset

        lo, hi = shard.block(self.count)
        for i, rec in enumerate(read_dataset(self.path, require_label=False, unique_ids=self.unique_ids)):
            if i >= hi:
                break
            if i >= lo:
                out = _record_from_dataset(rec)
                if not self.keep_labels:
                    out.label = None
                yield out


def bed_windows(bed: str, fasta, folder: str, width: int, edge: str, max_n_frac: float, rejects) -> tuple[DatasetSource, dict]:
    """Cut BED/narrowPeak regions into windows with bed-summit-window's code (summit or midpoint
    centre, ``width``, ``edge`` policy, its filters and reject reasons), written to a FASTA in
    ``folder``; returns that FASTA as a source and bed-summit-window's counts. Rejected lines go
    to ``rejects``."""
    from enhancer_tools.genome.summit_windows import SummitWindowOptions, make_summit_windows

    path = os.path.join(folder, "windows.fa")
    opts = SummitWindowOptions(width=width, edge=edge, max_n_frac=max_n_frac, label="NA")
    with open(path, "wb", buffering=1 << 20) as fh:
        counts = make_summit_windows(bed, fasta, opts, fh, rejects=rejects)
    if counts["rejected"]:
        log.warning("%d of %d regions were not scored (%s)", counts["rejected"], counts["peaks_read"],
                    ", ".join(f"{k} {v}" for k, v in counts["rejects_by_reason"].items()))
    return DatasetSource(path, unique_ids=False, keep_labels=False), counts


class TileSource:
    """Tiles of ``width`` bp every ``step`` bp along the chromosomes of an open genome (see the
    module docstring for the rule at chromosome ends and for N)."""

    def __init__(self, fasta, width: int, step: int, chroms: str | None = None,
                 max_n_frac: float = DEFAULT_MAX_N_FRAC) -> None:
        from enhancer_tools.genome.reference import chrom_sizes
        from enhancer_tools.genome.windows import ChromFilter

        keep = ChromFilter(chroms)
        self.fasta, self.width, self.step, self.max_n_frac = fasta, width, step, max_n_frac
        self.sizes = {c: n for c, n in chrom_sizes(fasta).items() if keep.keep(c)}
        if not self.sizes:
            raise UserError(f"no chromosome of the genome matches --chroms {chroms!r}")
        self.tiles_per_chrom = {c: (n - width) // step + 1 if n >= width else 0 for c, n in self.sizes.items()}
        self.count = sum(self.tiles_per_chrom.values())
        if self.count == 0:
            raise UserError(f"every selected chromosome is shorter than one {width} bp tile")
        self.skipped_n = 0
        self.has_labels = False

    def records(self, shard: Shard = Shard()) -> Iterator[ScoreRecord]:
        """The shard's tiles in genome order; N-rich tiles are skipped (counted in ``skipped_n``)."""
        from enhancer_tools.genome.summit_windows import iter_window_sequences

        lo, hi = shard.block(self.count)
        first = 0
        limit = self.max_n_frac * self.width
        for chrom, n_tiles in self.tiles_per_chrom.items():
            a, b = max(lo - first, 0), min(hi - first, n_tiles)
            first += n_tiles
            if a >= b:
                continue
            starts = [k * self.step for k in range(a, b)]
            ends = [s + self.width for s in starts]
            for s, e, seq in zip(starts, ends, iter_window_sequences(self.fasta, chrom, self.sizes[chrom], starts, ends)):
                if seq.count("N") + seq.count("n") > limit:
                    self.skipped_n += 1
                    continue
                yield ScoreRecord(f"{chrom}:{s}-{e}", seq, chrom, s, e)
