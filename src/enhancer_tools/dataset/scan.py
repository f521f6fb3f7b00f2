"""Read labelled sequence files into per-record arrays of canonical keys, fast.

Three readers give identical results. The fast layout (uncompressed FASTA starting with '>',
one sequence line per record, LF line ends, ASCII headers with single spaces, a final newline)
is read in large blocks of whole records: a small file in this process, split with bytes
operations (``split_block`` + ``canonical.batch_keys``); a large one in byte ranges by worker
processes, which compute the keys on the block's bytes with the compiled kernel of
``canonical_block``. A file not in that layout goes to the generic reader (``io.fasta`` /
``io.dataset``: gzip, CRLF, wrapped lines, blank lines, TSV/CSV tables), which also produces
every error message with its line number.
"""

from __future__ import annotations

import multiprocessing
import operator
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from xxhash import xxh3_128_digest

from enhancer_tools.dataset.canonical import batch_keys
from enhancer_tools.errors import UserError
from enhancer_tools.io.compressed import open_binary
from enhancer_tools.io.dataset import parse_description, read_dataset
from enhancer_tools.io.fasta import read_fasta

BLOCK_BYTES = 4 << 20
PARALLEL_MIN_BYTES = 32 << 20
RANGE_BYTES = 256 << 20
_LABEL = re.compile(rb" label=(\S*)")
# Any of these sends the file to the generic reader, whose rules differ from a plain split.
_UNUSUAL_BYTES = (b"\r", b"\t", b"\x0b", b"\x0c")
_UNUSUAL_HEADER = (b"  ", b" \n", b"> ", b">\n")
_FIRST_BYTE = slice(0, 1)


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


@dataclass(slots=True)
class Records:
    """Per-record arrays for one file, in file order.

    keys, id_key: (n, 2) uint64 hashes of the canonical sequence and of the id; orient: uint8
    (canonical.FORWARD/REVERSE/PALINDROME); label: int32 index into ``labels`` (-1 = none);
    line: header line numbers (None in the fast layout, where record i starts on line 2i+1); start, end: byte range of each record (fast layout only, else
    None); length, gc, acgt: sequence length, G+C and A+C+G+T counts (when asked for).
    """

    keys: np.ndarray
    orient: np.ndarray
    label: np.ndarray
    labels: list
    id_key: np.ndarray
    line: np.ndarray | None
    start: np.ndarray | None
    end: np.ndarray | None
    length: np.ndarray | None = None
    gc: np.ndarray | None = None
    acgt: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.orient)

    def line_of(self, i: int) -> int:
        """Header line number of record ``i``."""
        return 2 * i + 1 if self.line is None else int(self.line[i])


def _digest_array(digests: bytes) -> np.ndarray:
    # Only equality matters, so the bytes are viewed in place whatever their byte order.
    return np.frombuffer(digests, dtype=np.uint64).reshape(-1, 2)


def _label_of(header: bytes, default: bytes | None) -> bytes | None:
    found = _LABEL.findall(header)
    return found[-1] if found else default


def split_block(block: bytes, default_label: bytes | None) -> Batch:
    """Split a block of whole records in the fast layout; NotFastLayout otherwise. Sequence
    letters are validated later, by ``batch_keys`` (a '>' there fails too)."""
    if not block.isascii() or any(u in block for u in _UNUSUAL_BYTES):
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
        labels = [_label_of(h, default_label) for h in headers]
    else:
        labels = [default_label] * len(headers)
    return Batch(headers, seqs, ids, labels, [])


def _fast_blocks(path, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    """Yield (file offset, block of whole records) for the bytes [start, stop), which must
    begin at a header and end at one (or at the end of the file)."""
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
    for offset, block in _fast_blocks(path, start, stop):
        yield offset, split_block(block, default_label)


def _check_fast_file(path) -> int:
    """The file size when the file can take the fast reader (by its first and last bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(1)
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(size - 1)
        tail = fh.read(1)
    if head != b">" or tail != b"\n":
        raise NotFastLayout
    return size


def _range_bounds(path, size: int, parts: int) -> list[int]:
    """Byte offsets splitting the file into ``parts`` ranges at record starts."""
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


def generic_batches(path, default_label: str | None, size: int = 20000) -> Iterator[Batch]:
    """Batches from the generic readers (any FASTA layout, gzip, TSV/CSV dataset tables)."""
    dl = default_label.encode() if default_label is not None else None
    with open_binary(path) as fh:
        first = fh.read(4096).lstrip()[:1]
    batch = Batch([], [], [], [], [])
    if first == b">":
        for r in read_fasta(path):
            if not r.seq:
                raise UserError(f"record {r.id!r} has an empty sequence", path, r.line)
            label, _ = parse_description(r.description)
            header = f"{r.id} {r.description}" if r.description else r.id
            _add(batch, header, r.seq, r.id, label.encode() if label is not None else dl, r.line)
            if len(batch.seqs) >= size:
                yield batch
                batch = Batch([], [], [], [], [])
    else:
        for r in read_dataset(path, default_label, require_label=False, unique_ids=False):
            _add(batch, r.header(), r.seq, r.id, r.label.encode() if r.label is not None else None, r.line)
            if len(batch.seqs) >= size:
                yield batch
                batch = Batch([], [], [], [], [])
    if batch.seqs:
        yield batch


def _add(batch: Batch, header: str, seq: str, rec_id: str, label: bytes | None, line: int) -> None:
    batch.headers.append(header.encode())
    batch.seqs.append(seq.encode("ascii"))
    batch.ids.append(rec_id.encode())
    batch.labels.append(label)
    batch.lines.append(line)


def iter_batches(path, default_label: str | None, fast: bool) -> Iterator[Batch]:
    """All records of a file in order, by the fast reader when ``fast`` (the file was scanned
    in its layout, ``Records.start is not None``), else by the generic one."""
    if fast:
        dl = default_label.encode() if default_label is not None else None
        for _, batch in fast_range_batches(path, 0, os.path.getsize(path), dl):
            yield batch
    else:
        yield from generic_batches(path, default_label)


@dataclass(slots=True)
class _Piece:
    """The per-record arrays of one block or batch, before they are concatenated."""

    keys: bytes
    orient: bytes
    ids: bytes
    labels: list
    lines: list
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    stats: np.ndarray | None = None


def _batch_piece(batch: Batch, with_stats: bool, offset: int | None = None) -> _Piece:
    """Keys of a batch of records as Python objects (generic reader, or a fast-layout block
    split by ``split_block`` at file ``offset``)."""
    digests, codes, valid = batch_keys(batch.seqs)
    if not valid:
        raise NotFastLayout
    piece = _Piece(digests, codes, b"".join(map(xxh3_128_digest, batch.ids)), batch.labels, batch.lines)
    if offset is not None:
        sizes = np.fromiter(map(len, batch.headers), np.int64, len(batch.headers))
        sizes += np.fromiter(map(len, batch.seqs), np.int64, len(batch.seqs)) + 3  # '>', two newlines
        piece.ends = offset + np.cumsum(sizes)
        piece.starts = piece.ends - sizes
    if with_stats:
        ups = list(map(bytes.upper, batch.seqs))
        counts = [np.fromiter(map(bytes.count, ups, repeat(base)), np.int64, len(ups)) for base in (b"A", b"C", b"G", b"T")]
        piece.stats = np.stack([np.fromiter(map(len, ups), np.int64, len(ups)), counts[1] + counts[2], sum(counts)])
    return piece


def _block_piece(block: bytes, offset: int, default_label: bytes | None, with_stats: bool) -> _Piece:
    """Keys of a block of whole records in the fast layout, computed on the block's bytes
    (``canonical_block``); NotFastLayout when the block is not in that layout or holds a
    letter that is not an IUPAC code (the generic reader then names the line)."""
    from enhancer_tools.dataset.canonical_block import block_base_counts, block_keys

    if not block.isascii() or any(u in block for u in _UNUSUAL_BYTES):
        raise NotFastLayout
    buf = np.frombuffer(block, dtype=np.uint8)
    line_ends = np.flatnonzero(buf == 10)
    if len(line_ends) % 2:
        raise NotFastLayout
    head_starts = np.concatenate(([0], line_ends[1:-1:2] + 1))
    head_ends, seq_ends = line_ends[0::2], line_ends[1::2]
    seq_starts = head_ends + 1
    if (buf[head_starts] != ord(">")).any() or (seq_ends == seq_starts).any():
        raise NotFastLayout
    digests, codes, valid = block_keys(buf, seq_starts, seq_ends)
    if not valid:
        raise NotFastLayout
    # Letters are valid, so spaces are in headers: refuse the header shapes of _UNUSUAL_HEADER.
    spaces = np.flatnonzero(buf == 32)
    after_gt = buf[head_starts + 1]
    if (np.diff(spaces) == 1).any() or (buf[spaces + 1] == 10).any() or ((after_gt == 32) | (after_gt == 10)).any():
        raise NotFastLayout
    first_space = spaces[np.minimum(np.searchsorted(spaces, head_starts), len(spaces) - 1)] if len(spaces) else head_ends
    id_ends = np.where((first_space > head_starts) & (first_space < head_ends), first_space, head_ends)
    view = memoryview(block)
    ids = b"".join([xxh3_128_digest(view[a + 1 : b]) for a, b in zip(head_starts.tolist(), id_ends.tolist())])
    if b"label=" in block:
        labels = [_label_of(block[a + 1 : b], default_label) for a, b in zip(head_starts.tolist(), head_ends.tolist())]
    else:
        labels = [default_label] * len(head_starts)
    piece = _Piece(digests, codes, ids, labels, [], offset + head_starts, offset + seq_ends + 1)
    if with_stats:
        gc, acgt = block_base_counts(buf, seq_starts, seq_ends)
        piece.stats = np.stack([seq_ends - seq_starts, gc, acgt])
    return piece


def _collect(pieces) -> dict:
    """Concatenate pieces into the per-file arrays (labels as indices into a table)."""
    keys, orient, ids, labels, starts, ends, lines, stats = [], [], [], [], [], [], [], []
    table: dict = {}
    for p in pieces:
        keys.append(p.keys)
        orient.append(p.orient)
        ids.append(p.ids)
        labels.append(np.array([table.setdefault(x, len(table)) if x is not None else -1 for x in p.labels], np.int32))
        lines.extend(p.lines)
        if p.starts is not None:
            starts.append(p.starts)
            ends.append(p.ends)
        if p.stats is not None:
            stats.append(p.stats)
    return {
        "keys": _digest_array(b"".join(keys)), "orient": np.frombuffer(b"".join(orient), np.uint8),
        "ids": _digest_array(b"".join(ids)), "table": list(table),
        "labels": np.concatenate(labels) if labels else np.zeros(0, np.int32),
        "starts": np.concatenate(starts) if starts else None, "ends": np.concatenate(ends) if ends else None,
        "lines": lines, "stats": np.concatenate(stats, axis=1) if stats else np.zeros((3, 0), np.int64),
    }


def _scan_range(args) -> dict:
    path, start, stop, dl, with_stats, compiled = args
    blocks = _fast_blocks(path, start, stop)
    if compiled:
        return _collect(_block_piece(block, offset, dl, with_stats) for offset, block in blocks)
    return _collect(_batch_piece(split_block(block, dl), with_stats, offset) for offset, block in blocks)


def scan_file(path, default_label: str | None = None, jobs: int = 1, with_stats: bool = False,
              on_part: Callable[[str, dict | None], None] | None = None) -> Records:
    """Canonical keys and the other per-record arrays of one labelled sequence file.

    ``on_part(path, part)``, when given, sees each part (the arrays of consecutive records) in
    file order as soon as it is scanned, or ``None`` when the parts seen so far are void (the
    file turned out not to be in the fast layout and is read again). Raises UserError (file,
    line) for anything the generic readers reject.
    """
    def seen(part: dict) -> dict:
        if on_part is not None:
            on_part(path, part)
        return part

    dl = default_label.encode() if default_label is not None else None
    parts = None
    try:
        size = _check_fast_file(path)
        large = size >= PARALLEL_MIN_BYTES
        # A large file is scanned by the compiled kernel in worker processes (even with one
        # job): numba's ~170 MB and ~1 s of start-up stay out of this process, which goes on
        # to hold every key. Ranges of at most RANGE_BYTES keep each worker's results (and
        # their pickled copy) small. A small file is read here, by bytes methods.
        ranges = max(jobs, -(-size // RANGE_BYTES)) if large else 1
        bounds = _range_bounds(path, size, ranges)
        tasks = [(path, a, b, dl, with_stats, large) for a, b in zip(bounds, bounds[1:])]
        if large:
            with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
                parts = [seen(part) for part in pool.map(_scan_range, tasks)]
        else:
            parts = [seen(_scan_range(t)) for t in tasks]
    except (NotFastLayout, OSError):
        parts = None
        if on_part is not None:
            on_part(path, None)
    if parts is None:
        parts = [seen(_collect(_batch_piece(b, with_stats) for b in generic_batches(path, default_label)))]
    return _merge(parts)


def _take_concatenated(parts: list[dict], name: str) -> np.ndarray:
    """np.concatenate of every part's ``name`` array, freeing each part's copy once it is
    moved: the peak stays near one copy of the arrays instead of two."""
    first = parts[0][name]
    n = sum(len(p[name]) for p in parts)
    out = np.empty((n, *first.shape[1:]), dtype=first.dtype)
    pos = 0
    for p in parts:
        block = p.pop(name)
        out[pos : pos + len(block)] = block
        pos += len(block)
    return out


def _merge(parts: list[dict]) -> Records:
    table: dict = {}
    labels = []
    for p in parts:
        remap = np.array([table.setdefault(x, len(table)) for x in p["table"]] + [-1], np.int32)
        labels.append(remap[p.pop("labels")])
    fast = parts[0]["starts"] is not None
    line = None if fast else np.array([x for p in parts for x in p["lines"]], np.int64)
    stats = np.concatenate([p["stats"] for p in parts], axis=1)
    return Records(
        keys=_take_concatenated(parts, "keys"),
        orient=_take_concatenated(parts, "orient"),
        label=np.concatenate(labels) if labels else np.zeros(0, np.int32),
        labels=[x.decode() for x in table],
        id_key=_take_concatenated(parts, "ids"),
        line=line,
        start=_take_concatenated(parts, "starts") if fast else None,
        end=_take_concatenated(parts, "ends") if fast else None,
        length=stats[0] if stats.size else None,
        gc=stats[1] if stats.size else None,
        acgt=stats[2] if stats.size else None,
    )
