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

from enhancer_tools.errors import UserError

# The defaults of every tool that cuts windows (bed-summit-window, background-windows,
# score-regions); the Galaxy wrappers repeat them (tests/test_defaults_in_sync.py).
DEFAULT_WIDTH = 1000
DEFAULT_MAX_N_FRAC = 0.1
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


def place_windows(centres, width: int, chrom_lengths, edge: str):
    """The windows of ``width`` bp around ``centres`` on chromosomes of ``chrom_lengths``
    (numpy arrays): returns ``(starts, ends, placed)`` (int64, int64, bool). Where ``placed``
    is False the window was dropped and starts/ends are meaningless.

    ``edge`` says what happens when a window runs off a chromosome end: 'drop' drops it,
    'shift' slides it inside keeping the width (dropped when the chromosome is shorter than
    the width), 'clip' truncates it at the end(s). Each centre must lie in
    ``[0, chrom_length)``.
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
    """The reason code for a window that ``place_windows`` dropped."""
    return CHROM_TOO_SHORT if width > chrom_length else OFF_END


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
