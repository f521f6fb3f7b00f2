"""Window placement around a centre, the chromosome-end policy, and reject reasons.

Width semantics (0-based, half-open, as in BED): ``start = centre - width // 2`` and
``end = start + width``. The centre base is therefore at offset ``width // 2`` inside the
window: for an odd width (1001) it has ``width // 2`` bases on each side; for an even width
(1000) it has 500 bases before it and 499 after it (the same rule as ``bedtools slop`` on a
1-bp summit with ``-l 500 -r 499`` and as ``awk`` scripts using ``int(W/2)``).

The centre of a peak is its summit (narrowPeak column 10, or ``--summit-col``) or, where
there is none (-1, or plain BED), the midpoint ``start + (end - start) // 2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from enhancer_tools.errors import UserError
from enhancer_tools.io.intervals import Interval

EDGE_POLICIES = ("drop", "shift", "clip")

# Reject reasons (stable codes, used in rejects files and run-info counts).
MALFORMED = "malformed_line"
EXCLUDED_CHROM = "excluded_chromosome"
UNKNOWN_CHROM = "unknown_chromosome"
PEAK_PAST_END = "peak_past_chromosome_end"
SUMMIT_OUTSIDE = "summit_outside_peak"
OFF_END = "off_chromosome_end"
CHROM_TOO_SHORT = "chromosome_shorter_than_window"
BLACKLISTED = "blacklist_overlap"
DUPLICATE = "duplicate_window"
WEAKER_NEARBY = "weaker_than_nearby_peak"
TOO_MANY_N = "too_many_n"


def place_window(centre: int, width: int, chrom_length: int, edge: str) -> tuple[int, int] | None:
    """The window ``(start, end)`` of ``width`` bp around ``centre``, or None when dropped.

    ``edge`` says what happens when the window runs off a chromosome end: 'drop' returns None,
    'shift' slides it inside keeping the width (None when the chromosome is shorter than the
    width), 'clip' truncates it at the end(s). ``centre`` must lie in ``[0, chrom_length)``.
    """
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
    raise ValueError(f"edge must be one of {EDGE_POLICIES}, not {edge!r}")


def place_windows(centres, width: int, chrom_lengths, edge: str):
    """Vectorised ``place_window`` over numpy arrays: returns ``(starts, ends, placed)``
    (int64, int64, bool). Where ``placed`` is False the window was dropped and starts/ends
    are meaningless.
    """
    import numpy as np

    starts = centres - width // 2
    ends = starts + width
    inside = (starts >= 0) & (ends <= chrom_lengths)
    if edge == "drop":
        return starts, ends, inside
    if edge == "shift":
        fits = chrom_lengths >= width
        starts = np.where(starts < 0, 0, np.where(ends > chrom_lengths, chrom_lengths - width, starts))
        return starts, starts + width, fits
    if edge == "clip":
        return np.maximum(starts, 0), np.minimum(ends, chrom_lengths), np.ones(len(centres), dtype=bool)
    raise ValueError(f"edge must be one of {EDGE_POLICIES}, not {edge!r}")


def edge_reject_reason(width: int, chrom_length: int) -> str:
    """The reason code for a window that ``place_window`` dropped."""
    return CHROM_TOO_SHORT if width > chrom_length else OFF_END


def interval_centre(iv: Interval) -> int:
    """The summit when the row has one, else the midpoint ``start + (end - start) // 2``."""
    return iv.summit if iv.summit is not None else iv.start + (iv.end - iv.start) // 2


class ChromFilter:
    """Chromosome selection by regular expressions (Python ``re.search``; anchor with ^ and $).

    A chromosome is kept when it matches ``include`` (if given) and does not match ``exclude``
    (if given).
    """

    def __init__(self, include: str | None = None, exclude: str | None = None) -> None:
        self.include = _compile(include, "--chroms")
        self.exclude = _compile(exclude, "--exclude-chroms")

    def keep(self, chrom: str) -> bool:
        """True when ``chrom`` passes both expressions."""
        if self.include is not None and not self.include.search(chrom):
            return False
        return not (self.exclude is not None and self.exclude.search(chrom))


def _compile(pattern: str | None, option: str):
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UserError(f"{option} is not a valid regular expression: {pattern!r} ({exc})") from None


@dataclass(slots=True)
class WindowResult:
    """One interval's outcome: ``window`` is ``(start, end)`` when placed, else None and
    ``reason`` (a reject code) with a human-readable ``detail``."""

    interval: Interval
    window: tuple[int, int] | None
    reason: str | None = None
    detail: str = ""


def check_interval(iv: Interval, chrom_lengths: Mapping[str, int], chrom_filter: ChromFilter | None = None):
    """``(reason, detail)`` when the interval cannot get a window on this genome, else None."""
    if chrom_filter is not None and not chrom_filter.keep(iv.chrom):
        return EXCLUDED_CHROM, f"chromosome {iv.chrom} excluded by --chroms/--exclude-chroms"
    length = chrom_lengths.get(iv.chrom)
    if length is None:
        return UNKNOWN_CHROM, f"chromosome {iv.chrom} is not in the genome"
    if iv.end > length:
        return PEAK_PAST_END, f"peak end {iv.end} is past the end of {iv.chrom} (length {length}): wrong genome build?"
    if iv.summit is not None and not iv.start <= iv.summit < iv.end:
        return SUMMIT_OUTSIDE, f"summit {iv.summit} lies outside the peak (start {iv.start}, end {iv.end})"
    return None


def windows_from_intervals(
    intervals: Iterable[Interval],
    chrom_lengths: Mapping[str, int],
    width: int,
    edge: str = "drop",
    chrom_filter: ChromFilter | None = None,
) -> Iterator[WindowResult]:
    """Turn intervals into centred windows, one WindowResult per interval, in input order.

    The checks, in order: chromosome filter, unknown chromosome, peak past the chromosome end,
    summit outside its peak, chromosome-end policy (``edge``).
    """
    if edge not in EDGE_POLICIES:
        raise ValueError(f"edge must be one of {EDGE_POLICIES}, not {edge!r}")
    for iv in intervals:
        problem = check_interval(iv, chrom_lengths, chrom_filter)
        if problem is not None:
            yield WindowResult(iv, None, *problem)
            continue
        length = chrom_lengths[iv.chrom]
        window = place_window(interval_centre(iv), width, length, edge)
        if window is None:
            reason = edge_reject_reason(width, length)
            yield WindowResult(iv, None, reason, f"{width} bp window around {interval_centre(iv)} runs off {iv.chrom} (length {length})")
        else:
            yield WindowResult(iv, window)
