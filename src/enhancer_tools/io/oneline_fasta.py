"""Fast reading of one-line FASTA files, in blocks of whole records and in byte ranges.

The fast layout: uncompressed FASTA starting with '>', one sequence line per record, LF line
ends, ASCII headers with single spaces, a final newline. Such a file splits at any "\\n>" into
ranges that workers read on their own (``record_range_bounds``, ``record_blocks``), and a
block of whole records splits with bytes operations alone (``split_block``). Anything else
raises NotFastLayout; the caller then falls back to the generic readers (``io.fasta``,
``io.dataset``), which accept every layout and name the line of any error.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

BLOCK_BYTES = 4 << 20
# Any of these sends the file to the generic reader, whose rules differ from a plain split.
UNUSUAL_BYTES = (b"\r", b"\t", b"\x0b", b"\x0c")
_UNUSUAL_HEADER = (b"  ", b" \n", b"> ", b">\n")
_FIRST_BYTE = slice(0, 1)
_LABEL = re.compile(rb" label=(\S*)")


class NotFastLayout(Exception):
    """The file is not in the fast reader's layout."""


@dataclass(slots=True)
class Batch:
    """Consecutive records: header texts (without '>'), sequences, ids, labels (bytes or None),
    header line numbers (generic reader only)."""

    headers: list
    seqs: list
    ids: list
    labels: list
    lines: list


def label_of(header: bytes, default: bytes | None) -> bytes | None:
    """The value of the last ``label=`` word of a header (without '>'), else ``default``."""
    found = _LABEL.findall(header)
    return found[-1] if found else default


def split_block(block: bytes, default_label: bytes | None) -> Batch:
    """Split a block of whole records in the fast layout; NotFastLayout otherwise. Sequence
    letters are not checked here: the caller validates them (a '>' there fails too)."""
    if not block.isascii() or any(u in block for u in UNUSUAL_BYTES):
        raise NotFastLayout
    lines = block.split(b"\n")
    lines.pop()
    headers, seqs = lines[0::2], lines[1::2]
    if len(headers) != len(seqs) or b"" in seqs:
        raise NotFastLayout
    joined = b"\n".join(headers) + b"\n"
    if any(u in joined for u in _UNUSUAL_HEADER):
        raise NotFastLayout
    if b"".join(map(operator.itemgetter(_FIRST_BYTE), headers)) != b">" * len(headers):
        raise NotFastLayout
    headers = [h[1:] for h in headers]
    ids = list(map(operator.itemgetter(0), map(bytes.partition, headers, repeat(b" "))))
    if b"label=" in block:
        labels = [label_of(h, default_label) for h in headers]
    else:
        labels = [default_label] * len(headers)
    return Batch(headers, seqs, ids, labels, [])


def record_blocks(path, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    """Yield (file offset, block of whole records) for the bytes [start, stop), which must
    begin at a header and end at one (or at the end of the file); blocks hold about
    BLOCK_BYTES."""
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        pos, rest = start, b""
        while pos < stop:
            chunk = fh.read(min(BLOCK_BYTES, stop - pos))
            if not chunk:
                break
            pos += len(chunk)
            buf = rest + chunk
            cut = len(buf) if pos >= stop else buf.rfind(b"\n>") + 1
            if cut:
                yield pos - len(buf), buf[:cut]
            rest = buf[cut:]


def fast_range_batches(path, start: int, stop: int, default_label: bytes | None) -> Iterator[tuple[int, Batch]]:
    """(offset, Batch) for the records of a fast-layout byte range."""
    for offset, block in record_blocks(path, start, stop):
        yield offset, split_block(block, default_label)


def fast_layout_size(path) -> int:
    """The file size when the file can take the fast reader (by its first and last bytes);
    NotFastLayout otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(1)
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(size - 1)
        tail = fh.read(1)
    if head != b">" or tail != b"\n":
        raise NotFastLayout
    return size


def record_range_bounds(path, size: int, parts: int) -> list[int]:
    """Byte offsets splitting the file into (at most) ``parts`` ranges at record starts."""
    bounds = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            fh.seek(max(size * i // parts, bounds[-1]))
            window = fh.read(1 << 20)
            at = window.find(b"\n>")
            if at >= 0:
                bounds.append(fh.tell() - len(window) + at + 1)
    bounds.append(size)
    return sorted(set(bounds))
