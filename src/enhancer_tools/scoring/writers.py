"""score-regions outputs: the scores TSV, called regions as BED, and bedGraph/bigWig tracks.

Scores TSV: header ``id chrom start end p_forward p_reverse p call [label]``; probabilities
with 7 significant digits; ``.`` for coordinates the input does not have and ``NA`` for
``p_reverse`` without reverse-complement averaging; ``call`` is 0/1; ``label`` only when the
input has labels (``NA`` for a record without one).

Calls BED (BED6): the regions with ``call`` 1, name = id, score = round(1000 p), strand ``.``
(an averaged score belongs to both strands). Overlapping tiles stay separate lines
(``bedtools merge`` joins them).

Track (tiles only): each tile's ``p`` is assigned to its central ``step`` bp,
``[start + (width - step) // 2, + step)``, when ``step < width``, so consecutive tiles give
adjacent, non-overlapping intervals; when ``step >= width`` the tile itself is the interval.
The first and last ``(width - step) // 2`` bp of a chromosome and skipped (N-rich) tiles are
gaps. bedGraph has no track line, so shards concatenate.
"""

from __future__ import annotations

from collections.abc import Mapping

from enhancer_tools.errors import UserError
from enhancer_tools.scoring.predict import ScoredBatch
from enhancer_tools.scoring.sources import NO_COORDINATE

COLUMNS = ("id", "chrom", "start", "end", "p_forward", "p_reverse", "p", "call")
MISSING = "NA"


def _fmt(value: float) -> str:
    return f"{value:.7g}"


def _coord(value) -> str:
    return NO_COORDINATE if value is None else str(value)


class ScoresWriter:
    """The scores TSV."""

    def __init__(self, fh, with_label: bool) -> None:
        self.fh = fh
        self.with_label = with_label
        fh.write("\t".join(COLUMNS + (("label",) if with_label else ())) + "\n")

    def write(self, batch: ScoredBatch) -> None:
        """Write one scored batch."""
        p_rev = batch.p_reverse.tolist() if batch.p_reverse is not None else [None] * len(batch.records)
        lines = []
        for rec, pf, pr, p, call in zip(batch.records, batch.p_forward.tolist(), p_rev, batch.p.tolist(), batch.call.tolist()):
            fields = [rec.id, _coord(rec.chrom), _coord(rec.start), _coord(rec.end), _fmt(pf),
                      MISSING if pr is None else _fmt(pr), _fmt(p), "1" if call else "0"]
            if self.with_label:
                fields.append(MISSING if rec.label is None else rec.label)
            lines.append("\t".join(fields))
        if lines:
            self.fh.write("\n".join(lines) + "\n")


class CallsBedWriter:
    """Called regions as BED6 with score round(1000 p)."""

    def __init__(self, fh, source_path: str | None = None) -> None:
        self.fh = fh
        self.source_path = source_path

    def write(self, batch: ScoredBatch) -> None:
        """Write the called records of one batch."""
        lines = []
        for rec, p, call in zip(batch.records, batch.p.tolist(), batch.call.tolist()):
            if not call:
                continue
            if rec.chrom is None:
                raise UserError(f"--bed-out needs genomic coordinates, but record {rec.id!r} has no "
                                "region=chrom:start-end attribute", self.source_path)
            lines.append(f"{rec.chrom}\t{rec.start}\t{rec.end}\t{rec.id}\t{round(1000 * p)}\t.")
        if lines:
            self.fh.write("\n".join(lines) + "\n")


def track_interval(start: int, width: int, step: int) -> tuple[int, int]:
    """The track interval of a tile starting at ``start`` (see the module docstring)."""
    if step >= width:
        return start, start + width
    lo = start + (width - step) // 2
    return lo, lo + step


class BedGraphWriter:
    """bedGraph (chrom, start, end, p) of tiled scores."""

    def __init__(self, fh, width: int, step: int) -> None:
        self.fh, self.width, self.step = fh, width, step

    def write(self, batch: ScoredBatch) -> None:
        """Write one batch of tiles."""
        lines = []
        for rec, p in zip(batch.records, batch.p.tolist()):
            lo, hi = track_interval(rec.start, self.width, self.step)
            lines.append(f"{rec.chrom}\t{lo}\t{hi}\t{_fmt(p)}")
        if lines:
            self.fh.write("\n".join(lines) + "\n")


def require_pybigwig():
    """Import pyBigWig or raise a UserError saying how to get it."""
    try:
        import pyBigWig
    except ImportError:
        raise UserError("--bigwig needs the pyBigWig package (pip install pyBigWig or conda install -c bioconda "
                        "pybigwig); or write --bedgraph and convert it with UCSC bedGraphToBigWig") from None
    return pyBigWig


class BigWigWriter:
    """bigWig of tiled scores via pyBigWig; ``sizes`` are the tiled chromosomes in genome order."""

    def __init__(self, path: str, sizes: Mapping[str, int], width: int, step: int) -> None:
        pyBigWig = require_pybigwig()
        self.width, self.step = width, step
        self.bw = pyBigWig.open(path, "w")
        self.bw.addHeader(list(sizes.items()))

    def write(self, batch: ScoredBatch) -> None:
        """Add one batch of tiles (entries arrive in genome order)."""
        chroms, starts, ends = [], [], []
        for rec in batch.records:
            lo, hi = track_interval(rec.start, self.width, self.step)
            chroms.append(rec.chrom)
            starts.append(lo)
            ends.append(hi)
        if chroms:
            self.bw.addEntries(chroms, starts, ends=ends, values=[float(v) for v in batch.p.tolist()])

    def close(self) -> None:
        """Finish the file (writes the zoom levels and index)."""
        self.bw.close()
