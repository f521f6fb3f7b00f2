"""The REF and ALT windows of one variant allele: where score-variants cuts them from the genome.

REF window: the REF span of the VCF record, ``[p, p + len(REF))`` (0-based, REF exactly as the
record writes it, padding base included), has the centre ``c = p + len(REF) // 2`` (an SNV: its
own base); the window is placed around ``c`` by bed-summit-window's rule
(``genome.windows.place_windows``: ``[c - width // 2, c - width // 2 + width)``) and edge policy
(drop, shift or clip). It must contain the whole REF span.

ALT window: the REF window with the REF span replaced by ALT, brought back to the REF window's
length ``L`` so both alleles are scored at the same length and the ALT allele stays centred.
With ``d = len(ALT) - len(REF)``:

- ``d == 0`` (SNV, MNP): nothing to do;
- ``d > 0`` (insertion): ``d // 2`` bases are trimmed off the window's left end and
  ``d - d // 2`` off its right end;
- ``d < 0`` (deletion, ``k = -d``): ``k // 2`` genome bases are added before the window and
  ``k - k // 2`` after it. Where the chromosome ends first, ``shift`` takes the missing bases from
  the other side, ``clip`` leaves the ALT window shorter, ``drop`` rejects the allele.

An allele that does not fit (REF or ALT longer than the window allows) is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enhancer_tools.genome import windows as W

ALLELE_TOO_LONG = "allele_longer_than_window"


@dataclass(frozen=True)
class RefWindow:
    """The REF window ``[start, end)`` of one record, or the reason it has none."""

    start: int = 0
    end: int = 0
    reason: str | None = None
    detail: str = ""


def ref_window(pos: int, ref_len: int, width: int, chrom_len: int, edge: str) -> RefWindow:
    """The REF window of the record whose REF span is ``[pos, pos + ref_len)`` (see the module
    docstring)."""
    centre = pos + ref_len // 2
    starts, ends, placed = W.place_windows(np.array([centre]), width, np.array([chrom_len]), edge)
    start, end = int(starts[0]), int(ends[0])
    if not placed[0]:
        return RefWindow(reason=W.edge_reject_reason(width, chrom_len),
                         detail=f"{width} bp window around {centre} runs off the chromosome (length {chrom_len})")
    if start > pos or end < pos + ref_len:
        return RefWindow(reason=ALLELE_TOO_LONG, detail=f"REF ({ref_len} bp) does not fit a {width} bp window")
    return RefWindow(start, end)


def alt_window(fetch, chrom_len: int, win: RefWindow, pos: int, ref_len: int, alt: str,
               edge: str) -> tuple[str | None, str | None, str]:
    """``(sequence, None, "")`` of the ALT window (``fetch(start, end)`` reads the genome), or
    ``(None, reason, detail)`` when the allele cannot be windowed."""
    d = len(alt) - ref_len
    left_start, right_end = win.start, win.end
    if d > 0:
        left_start += d // 2
        right_end -= d - d // 2
        if left_start > pos or right_end < pos + ref_len:
            return None, ALLELE_TOO_LONG, f"ALT ({len(alt)} bp) does not fit a {win.end - win.start} bp window"
    elif d < 0:
        k = -d
        left_start -= k // 2
        right_end += k - k // 2
        if left_start < 0 or right_end > chrom_len:
            if edge == "drop":
                return None, W.OFF_END, f"the deletion's window extension runs off the chromosome (length {chrom_len})"
            if edge == "shift":
                left_start, right_end = _shift_inside(left_start, right_end, chrom_len)
            else:
                left_start, right_end = max(left_start, 0), min(right_end, chrom_len)
    return fetch(left_start, pos) + alt + fetch(pos + ref_len, right_end), None, ""


def _shift_inside(start: int, end: int, chrom_len: int) -> tuple[int, int]:
    """Slide ``[start, end)`` inside ``[0, chrom_len)`` keeping its length where it fits."""
    if start < 0:
        end, start = min(end - start, chrom_len), 0
    elif end > chrom_len:
        start, end = max(start - (end - chrom_len), 0), chrom_len
    return start, end
