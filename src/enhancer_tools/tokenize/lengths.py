"""Token-length statistics of every sequence under a tokenizer, streamed, on several cores.

Sequences are read once and sent in chunks to worker processes, each running its own
single-threaded tokenizer (this beat ``encode_batch``'s shared thread pool on a busy 2-core
machine); only a histogram of lengths comes back, so memory does not grow with the input.
Lengths count the sequence's tokens without ``[CLS]``/``[SEP]``; the model input is two longer.

Quantiles are nearest-rank (numpy's ``inverted_cdf``): the p99.9 is the smallest token count
that at least 99.9% of sequences do not exceed, always a length that occurs.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from enhancer_tools.tokenize.encode import encode_batch_ids_only

SPECIALS_PER_SEQUENCE = 2
QUANTILES = (("median", 500), ("p95", 950), ("p99", 990), ("p99_9", 999))  # per mille
MAX_HISTOGRAM_BINS = 100
_ACGT = b"ACGT"
_tokenizer = None


def default_workers() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _init_worker(tokenizer_json: str, worker_process: bool = True) -> None:
    if worker_process:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one process per core already
    global _tokenizer
    from tokenizers import Tokenizer

    _tokenizer = Tokenizer.from_str(tokenizer_json)


def _count_chunk(seqs: list[str]) -> tuple[np.ndarray, int, int]:
    """Histogram of token counts, bases and non-ACGT bases of one chunk."""
    upper = [s.upper() for s in seqs]
    encodings = encode_batch_ids_only(_tokenizer)(upper, add_special_tokens=False)
    lengths = np.fromiter((len(e) for e in encodings), dtype=np.int64, count=len(encodings))
    bases = sum(map(len, upper))
    non_acgt = sum(len(s.encode("ascii").translate(None, _ACGT)) for s in upper)
    return np.bincount(lengths), bases, non_acgt


def _chunks(seqs: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for seq in seqs:
        chunk.append(seq)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Totals:
    def __init__(self) -> None:
        self.histogram = np.zeros(1, dtype=np.int64)
        self.bases = 0
        self.non_acgt = 0

    def add(self, part: tuple[np.ndarray, int, int]) -> None:
        counts, bases, non_acgt = part
        if counts.size > self.histogram.size:
            counts = counts.copy()
            counts[: self.histogram.size] += self.histogram
            self.histogram = counts
        else:
            self.histogram[: counts.size] += counts
        self.bases += bases
        self.non_acgt += non_acgt


def count_token_lengths(
    tokenizer_json: str, seqs: Iterable[str], workers: int = 1, chunk_size: int = 2000
) -> tuple[np.ndarray, int, int]:
    """Count tokens per sequence (upper-cased, no specials) over a stream of sequences.

    Returns (histogram where index = token count, total bases, non-ACGT bases). ``workers``
    > 1 uses that many worker processes; 1 tokenizes in this process.
    """
    totals = _Totals()
    chunks = _chunks(seqs, chunk_size)
    first = next(chunks, [])
    second = next(chunks, None)
    if workers <= 1 or second is None:  # one chunk is not worth starting processes for
        _init_worker(tokenizer_json, worker_process=False)
        for chunk in itertools.chain([first], [second] if second else [], chunks):
            totals.add(_count_chunk(chunk))
        return totals.histogram, totals.bases, totals.non_acgt
    import multiprocessing

    # spawn, not fork: a process that trained a tokenizer already holds tokenizers' threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(tokenizer_json,)) as pool:
        pending: set = set()
        for chunk in itertools.chain([first, second], chunks):
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    totals.add(future.result())
            pending.add(pool.submit(_count_chunk, chunk))
        for future in pending:
            totals.add(future.result())
    return totals.histogram, totals.bases, totals.non_acgt


def _count_range(args: tuple) -> tuple[np.ndarray, int, int]:
    """``_count_chunk`` over the records of a byte range of a fast-layout FASTA (see
    ``io.oneline_fasta``), read by this worker; NotFastLayout when the range is not in that
    layout or holds a letter that is not an IUPAC code."""
    from enhancer_tools.io.oneline_fasta import NotFastLayout, record_blocks, split_block
    from enhancer_tools.seq import invalid_characters

    path, start, stop, chunk_size = args
    totals = _Totals()
    for _, block in record_blocks(path, start, stop):
        seqs = split_block(block, None).seqs
        if invalid_characters(b"".join(seqs)):
            raise NotFastLayout
        for i in range(0, len(seqs), chunk_size):
            totals.add(_count_chunk([s.decode("ascii") for s in seqs[i : i + chunk_size]]))
    return totals.histogram, totals.bases, totals.non_acgt


def count_token_lengths_in_file(tokenizer_json: str, path, workers: int, chunk_size: int = 2000,
                                range_bytes: int = 16 << 20) -> tuple[np.ndarray, int, int] | None:
    """``count_token_lengths`` of every sequence of a FASTA file in the fast layout (one line
    per sequence), with each worker reading its own byte ranges: no parsing or pickling of
    2 GB of sequences in this process. None when the file is not in that layout (the caller
    then streams it through the generic reader, which also names any bad line)."""
    import multiprocessing

    from enhancer_tools.io.oneline_fasta import NotFastLayout, fast_layout_size, record_range_bounds
    from enhancer_tools.progress import progress

    try:
        size = fast_layout_size(path)
    except (NotFastLayout, OSError):
        return None
    bounds = record_range_bounds(path, size, max(1, -(-size // range_bytes)))
    tasks = [(path, a, b, chunk_size) for a, b in zip(bounds, bounds[1:])]
    totals = _Totals()
    context = multiprocessing.get_context("spawn")  # see count_token_lengths
    try:
        with ProcessPoolExecutor(max(1, workers), mp_context=context, initializer=_init_worker,
                                 initargs=(tokenizer_json,)) as pool:
            for part in progress(pool.map(_count_range, tasks), "token lengths", total=len(tasks), unit="range"):
                totals.add(part)
    except NotFastLayout:
        return None
    return totals.histogram, totals.bases, totals.non_acgt


def summarize(histogram: np.ndarray, bases: int, non_acgt: int, max_length: int | None = None) -> dict[str, Any]:
    """Statistics from a token-count histogram (index = tokens of a sequence, no specials).

    ``recommended_max_length`` is the smallest multiple of 8 that holds p99.9 plus [CLS] and
    [SEP]; the truncation figures are for ``max_length`` when given, else for that
    recommendation.
    """
    histogram = np.asarray(histogram, dtype=np.int64)
    n = int(histogram.sum())
    if n == 0:
        raise ValueError("no sequences were counted")
    lengths = np.arange(histogram.size)
    occurring = np.flatnonzero(histogram)
    cumulative = np.cumsum(histogram)
    tokens = int((lengths * histogram).sum())
    per_sequence: dict[str, Any] = {"min": int(occurring[0])}
    for name, per_mille in QUANTILES:
        per_sequence[name] = int(np.searchsorted(cumulative * 1000, per_mille * n, side="left"))
    per_sequence["max"] = int(occurring[-1])
    per_sequence["mean"] = round(tokens / n, 3)
    recommended = 8 * math.ceil((per_sequence["p99_9"] + SPECIALS_PER_SEQUENCE) / 8)
    evaluated = max_length if max_length is not None else recommended
    keep = evaluated - SPECIALS_PER_SEQUENCE
    truncated = int(histogram[keep + 1 :].sum()) if keep + 1 < histogram.size else 0
    return {
        "sequences": n,
        "bases": int(bases),
        "non_acgt_bases": int(non_acgt),
        "tokens": tokens,
        "tokens_per_sequence": per_sequence,
        "bp_per_token": round(bases / tokens, 4) if tokens else None,
        "tokens_per_kb": round(1000 * tokens / bases, 3) if bases else None,
        "specials_per_sequence": SPECIALS_PER_SEQUENCE,
        "recommended_max_length": recommended,
        "max_length": evaluated,
        "max_length_given": max_length is not None,
        "truncated_sequences": truncated,
        "truncated_fraction": round(truncated / n, 6),
        "histogram": _histogram_bins(histogram, int(occurring[0]), int(occurring[-1])),
    }


def _histogram_bins(histogram: np.ndarray, low: int, high: int) -> dict[str, Any]:
    """At most MAX_HISTOGRAM_BINS equal-width bins covering low..high tokens."""
    width = max(1, math.ceil((high - low + 1) / MAX_HISTOGRAM_BINS))
    starts = list(range(low, high + 1, width))
    counts = [int(histogram[s : s + width].sum()) for s in starts]
    return {"bin_width": width, "bin_start": starts, "count": counts}


def token_length_stats(
    tokenizer_path: str | os.PathLike,
    seqs: Iterable[str],
    max_length: int | None = None,
    workers: int = 1,
    chunk_size: int = 2000,
    fasta: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Token-length statistics of every sequence under the tokenizer file (see ``summarize``).

    ``seqs`` streams the sequences; when they are the records of the file ``fasta`` and it is
    a plain one-line-per-sequence FASTA, workers read it directly instead and ``seqs`` is
    not consumed.
    The tokenizer is loaded (and checked) with ``load_tokenizer``."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.tokenize.encode import load_tokenizer

    if max_length is not None and max_length < SPECIALS_PER_SEQUENCE + 1:
        raise UserError(f"--max-length must be at least 3 ([CLS], one token, [SEP]); got {max_length}")
    load_tokenizer(tokenizer_path)
    with open(tokenizer_path, encoding="utf-8") as fh:
        tokenizer_json = fh.read()
    counted = count_token_lengths_in_file(tokenizer_json, fasta, workers, chunk_size) if fasta else None
    if counted is None:
        counted = count_token_lengths(tokenizer_json, seqs, workers, chunk_size)
    histogram, bases, non_acgt = counted
    if histogram.sum() == 0:
        raise UserError("no sequences to measure")
    return summarize(histogram, bases, non_acgt, max_length)
