"""BED (BED3 to BED12) and narrowPeak reader.

Skips ``track``, ``browser``, ``#`` and blank lines; accepts LF or CRLF, plain or gzip. A
10-column file is read as narrowPeak: column 10 is the summit offset from ``start``, -1
meaning "no summit". A malformed line raises UserError with its line number, or, when the
caller passes ``on_bad``, is handed to it with the reason and skipped (for rejects files).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from enhancer_tools.errors import UserError
from enhancer_tools.io.compressed import open_binary

NARROWPEAK_COLUMNS = 10
STRANDS = ("+", "-", ".")


@dataclass(slots=True)
class Interval:
    """One BED/narrowPeak row. ``summit`` is absolute (0-based) or None; ``fields`` holds all
    columns as text; ``line`` is the 1-based line number."""

    chrom: str
    start: int
    end: int
    name: str = "."
    score: str = "0"
    strand: str = "."
    summit: int | None = None
    signal: float | None = None
    pvalue: float | None = None
    qvalue: float | None = None
    line: int = 0
    fields: list[str] = field(default_factory=list)


BadLineHandler = Callable[[int, str, str], None]


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_interval(fields: list[str], line_no: int, summit_col: int | None = None) -> Interval:
    """Parse one split BED/narrowPeak row; raises ValueError with a reason on bad content.

    ``summit_col`` (1-based) names a column holding the summit offset from ``start``; by
    default column 10 is used when the row has exactly 10 columns (narrowPeak).
    """
    if len(fields) < 3:
        raise ValueError(f"expected at least 3 tab-separated columns (chrom, start, end), found {len(fields)}")
    chrom = fields[0]
    if not chrom:
        raise ValueError("empty chromosome name")
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        raise ValueError(f"start and end must be integers, found {fields[1]!r} and {fields[2]!r}") from None
    if start < 0:
        raise ValueError(f"negative start {start}")
    if end <= start:
        raise ValueError(f"end {end} is not after start {start}")
    iv = Interval(chrom, start, end, line=line_no, fields=fields)
    if len(fields) > 3:
        iv.name = fields[3]
    if len(fields) > 4:
        iv.score = fields[4]
    if len(fields) > 5:
        strand = fields[5]
        if strand not in STRANDS:
            raise ValueError(f"strand must be '+', '-' or '.', found {strand!r}")
        iv.strand = strand
    if len(fields) >= NARROWPEAK_COLUMNS:
        iv.signal, iv.pvalue, iv.qvalue = _float(fields[6]), _float(fields[7]), _float(fields[8])
    col = summit_col if summit_col is not None else (NARROWPEAK_COLUMNS if len(fields) == NARROWPEAK_COLUMNS else None)
    if col is not None:
        if len(fields) < col:
            raise ValueError(f"summit column {col} is missing (row has {len(fields)} columns)")
        try:
            offset = int(fields[col - 1])
        except ValueError:
            raise ValueError(f"summit offset in column {col} must be an integer, found {fields[col - 1]!r}") from None
        if offset != -1:
            if offset < -1:
                raise ValueError(f"summit offset {offset} is negative (only -1, meaning none, is allowed)")
            iv.summit = start + offset
    return iv


def read_intervals(
    path: str | os.PathLike,
    on_bad: BadLineHandler | None = None,
    summit_col: int | None = None,
) -> Iterator[Interval]:
    """Yield the intervals of a BED or narrowPeak file in file order.

    ``on_bad(line_no, raw_line, reason)`` receives malformed lines instead of an exception.
    A file with no interval at all raises UserError.
    """
    n = 0
    line_no = 0
    try:
        with open_binary(path) as fh:
            for raw in fh:
                line_no += 1
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    reason = "line is not valid UTF-8 text"
                    if on_bad is None:
                        raise UserError(reason, path, line_no) from None
                    on_bad(line_no, raw.decode("utf-8", "replace").rstrip("\r\n"), reason)
                    continue
                if not text.strip() or text.startswith(("#", "track", "browser")):
                    continue
                fields = text.split("\t") if "\t" in text else text.split()
                try:
                    iv = parse_interval(fields, line_no, summit_col)
                except ValueError as exc:
                    if on_bad is None:
                        raise UserError(str(exc), path, line_no) from None
                    on_bad(line_no, text, str(exc))
                    continue
                n += 1
                yield iv
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UserError(f"damaged or truncated gzip stream ({exc})", path, line_no or None) from None
    if n == 0:
        raise UserError("no intervals found (empty file, or only header/comment lines)", path)
