"""Read labelled sequence files into per-record arrays of canonical keys, fast.

Three readers give identical results. The fast layout (uncompressed FASTA starting with '>',
one sequence line per record, LF line ends, ASCII headers with single spaces, a final newline)
is read in large blocks of whole records (``io.oneline_fasta``): a small file in this process,
split with bytes operations (``split_block`` + ``canonical.batch_keys``); a large one in byte
ranges by worker processes, which compute the keys on the block's bytes with the compiled
kernel of ``canonical_block``. A file not in that layout goes to the generic reader
(``io.fasta`` / ``io.dataset``: gzip, CRLF, wrapped lines, blank lines, TSV/CSV tables), which
also produces every error message with its line number.
"""

from __future__ import annotations

import multiprocessing
import os
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
from enhancer_tools.io.oneline_fasta import (
    UNUSUAL_BYTES,
    Batch,
    NotFastLayout,
    fast_layout_size,
    fast_range_batches,
    label_of,
    record_blocks,
    record_range_bounds,
    split_block,
)

PARALLEL_MIN_BYTES = 32 << 20
RANGE_BYTES = 256 << 20


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

    if not block.isascii() or any(u in block for u in UNUSUAL_BYTES):
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
    # Letters are valid, so spaces are in headers: refuse the header shapes split_block refuses.
    spaces = np.flatnonzero(buf == 32)
    after_gt = buf[head_starts + 1]
    if (np.diff(spaces) == 1).any() or (buf[spaces + 1] == 10).any() or ((after_gt == 32) | (after_gt == 10)).any():
        raise NotFastLayout
    first_space = spaces[np.minimum(np.searchsorted(spaces, head_starts), len(spaces) - 1)] if len(spaces) else head_ends
    id_ends = np.where((first_space > head_starts) & (first_space < head_ends), first_space, head_ends)
    view = memoryview(block)
    ids = b"".join([xxh3_128_digest(view[a + 1 : b]) for a, b in zip(head_starts.tolist(), id_ends.tolist())])
    if b"label=" in block:
        labels = [label_of(block[a + 1 : b], default_label) for a, b in zip(head_starts.tolist(), head_ends.tolist())]
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
    blocks = record_blocks(path, start, stop)
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
        size = fast_layout_size(path)
        large = size >= PARALLEL_MIN_BYTES
        # A large file is scanned by the compiled kernel in worker processes (even with one
        # job): numba's ~170 MB and ~1 s of start-up stay out of this process, which goes on
        # to hold every key. Ranges of at most RANGE_BYTES keep each worker's results (and
        # their pickled copy) small. A small file is read here, by bytes methods.
        ranges = max(jobs, -(-size // RANGE_BYTES)) if large else 1
        bounds = record_range_bounds(path, size, ranges)
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
