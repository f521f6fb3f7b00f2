"""Vectorised reading of the regular lines of a BED/narrowPeak chunk into numpy columns.

The common case (every line with the same number of tab-separated fields, plain decimal
integers) is parsed with array operations on the raw bytes. Any line this does not accept
(comments, headers, other column counts, signs, spaces, bad values) is handed back to the
caller, which reads it with the line-by-line parser, so both paths give the same answer.
"""

from __future__ import annotations

import numpy as np

_MAX_DIGITS = 12
_POWERS = 10 ** np.arange(_MAX_DIGITS - 1, -1, -1, dtype=np.int64)
_STRAND_CODE = np.full(256, -1, dtype=np.int8)
_STRAND_CODE[ord(".")], _STRAND_CODE[ord("+")], _STRAND_CODE[ord("-")] = 0, 1, 2
_NOT_DATA_FIRST = np.zeros(256, dtype=bool)
_NOT_DATA_FIRST[[ord(c) for c in "#tb \t\r\n"]] = True  # comment/track/browser/blank: line-by-line path


def _integers(buf: np.ndarray, a: np.ndarray, b: np.ndarray, allow_minus_one: bool):
    """Parse the decimal fields ``buf[a:b]``; returns (values, ok)."""
    length = b - a
    width = int(min(_MAX_DIGITS, max(2, length.max()))) if len(a) else 2  # the widest field here, at most 12
    idx = b[:, None] - width + np.arange(width)
    inside = idx >= a[:, None]
    digits = buf[np.maximum(idx, 0)] - np.uint8(48)  # a non-digit byte wraps to > 9
    neg = np.zeros(len(a), dtype=bool)
    if allow_minus_one:
        neg = (length == 2) & (buf[a] == ord("-"))
        inside[neg, width - 2] = False
    digits[~inside] = 0
    ok = (length >= 1) & (length <= _MAX_DIGITS) & (digits <= 9).all(axis=1)
    values = digits.astype(np.int64) @ _POWERS[-width:]
    if allow_minus_one:
        ok &= ~neg | (values == 1)
        values[neg] = -1
    return values, ok


def parse_chunk(chunk: bytes, summit_col: int | None, strength_col: int | None):
    """Parse the regular lines of ``chunk`` (whole lines, each ending in '\\n').

    Returns ``(columns, irregular)``: ``columns`` is a dict of arrays for the accepted lines
    (``index`` = 0-based line index within the chunk, ``chrom_field`` = the chromosome names
    as a fixed-width bytes array, ``start``, ``end``, ``offset``, ``strand``, ``strength``,
    ``names`` a list of bytes) and ``irregular`` the 0-based indices of the other lines.
    """
    buf = np.frombuffer(chunk, dtype=np.uint8)
    line_end = np.flatnonzero(buf == 10)
    line_start = np.r_[0, line_end[:-1] + 1]
    empty = line_end == line_start
    line_end = line_end - ((buf[np.maximum(line_end - 1, 0)] == 13) & ~empty)
    tabs = np.flatnonzero(buf == 9)
    first_tab = np.searchsorted(tabs, line_start)
    n_tabs = np.searchsorted(tabs, line_end) - first_tab
    candidate = ~empty & ~_NOT_DATA_FIRST[buf[np.minimum(line_start, len(buf) - 1)]]
    if not candidate.any():
        return None, np.arange(len(line_start))
    k = int(np.bincount(n_tabs[candidate]).argmax())
    n_fields = k + 1
    s_col = summit_col - 1 if summit_col is not None else (9 if n_fields == 10 else None)
    needed = max(3, (s_col or 0) + 1, strength_col or 0)
    regular = candidate & (n_tabs == k)
    if n_fields < needed:
        regular[:] = False
    rows = np.flatnonzero(regular)
    t = tabs[first_tab[rows][:, None] + np.arange(k)]
    f_start = np.concatenate([line_start[rows][:, None], t + 1], axis=1)
    f_end = np.concatenate([t, line_end[rows][:, None]], axis=1)
    start, ok = _integers(buf, f_start[:, 1], f_end[:, 1], False)
    end, ok_end = _integers(buf, f_start[:, 2], f_end[:, 2], False)
    ok &= ok_end & (end > start) & (f_end[:, 0] > f_start[:, 0])
    if s_col is not None:
        offset, ok_off = _integers(buf, f_start[:, s_col], f_end[:, s_col], True)
        ok &= ok_off
    else:
        offset = np.full(len(rows), -1, dtype=np.int64)
    if n_fields > 5:
        strand = _STRAND_CODE[buf[f_start[:, 5]]]
        ok &= (f_end[:, 5] - f_start[:, 5] == 1) & (strand >= 0)
    else:
        strand = np.zeros(len(rows), dtype=np.int8)
    strength = np.zeros(len(rows))
    if strength_col is not None:
        texts = [chunk[a:b] for a, b in zip(f_start[:, strength_col - 1].tolist(), f_end[:, strength_col - 1].tolist())]
        for i, text in enumerate(texts):
            try:
                strength[i] = float(text)
            except ValueError:
                ok[i] = False
    irregular = np.sort(np.concatenate([np.flatnonzero(~regular & ~empty), rows[~ok]]))
    rows_ok = np.flatnonzero(ok)
    columns = {
        "index": rows[rows_ok],
        "chrom_field": _fixed_width(buf, f_start[rows_ok, 0], f_end[rows_ok, 0]),
        "start": start[rows_ok], "end": end[rows_ok], "offset": offset[rows_ok],
        "strand": strand[rows_ok], "strength": strength[rows_ok],
        "names": _fixed_width(buf, f_start[rows_ok, 3], f_end[rows_ok, 3]) if n_fields > 3 else np.zeros(len(rows_ok), dtype="S1"),
    }
    return columns, irregular


def _fixed_width(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The fields ``buf[a:b]`` as a fixed-width bytes array (numpy 'S' dtype)."""
    width = max(int((b - a).max()) if len(a) else 1, 1)
    pos = a[:, None] + np.arange(width)
    chars = np.where(pos < b[:, None], buf[np.minimum(pos, len(buf) - 1)], 0).astype(np.uint8)
    return np.ascontiguousarray(chars).view(f"S{width}").ravel()
