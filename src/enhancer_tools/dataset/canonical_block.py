"""Canonical keys of every sequence in a block of FASTA bytes, compiled with numba.

The same keys as ``canonical.batch_keys`` (a test holds them equal), without a Python object
per sequence: one compiled pass per sequence decides its orientation from both ends, checks
its letters and writes its canonical form (upper-cased, reverse-complemented where that is
smaller) into an output buffer, which xxh3 then hashes slice by slice. On 2.34 M x 1 kb this
is ~3x faster than the bytes-method version, whose three full copies per sequence (upper,
complement, reverse) dominated fasta-rc-dedup and dataset-split.

numba compiles on first use (~1.5 s) and caches the machine code next to this file, or in
the user's cache folder, when either is writable.
"""

from __future__ import annotations

import operator
from functools import cache

import numpy as np
from xxhash import xxh3_128_digest

from enhancer_tools.dataset.canonical import COMPLEMENT_OR_NUL

_UPPER = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
# complement of the upper-cased byte; 0 for anything that is not an IUPAC letter
_COMPLEMENT_OF_UPPER = np.frombuffer(bytes(COMPLEMENT_OR_NUL[b] for b in bytes(range(256)).upper()), dtype=np.uint8)
_IS_GC = np.zeros(256, dtype=np.int64)
_IS_GC[list(b"GCgc")] = 1
_IS_ACGT = np.zeros(256, dtype=np.int64)
_IS_ACGT[list(b"ACGTacgt")] = 1


def _canonical_forms(buf, starts, ends, out, upper, complement):
    """Write each sequence buf[starts[r]:ends[r]]'s canonical form to the same place in ``out``;
    returns (orientation codes as in canonical.py, whether every letter was an IUPAC code)."""
    n = len(starts)
    orient = np.empty(n, np.uint8)
    valid = True
    for r in range(n):
        a = starts[r]
        b = ends[r]
        code = 2  # palindrome unless a position differs
        for i in range(b - a):
            f = upper[buf[a + i]]
            c = complement[buf[b - 1 - i]]
            if f != c:
                code = 0 if f < c else 1
                break
        if code == 1:
            for i in range(b - a):
                c = complement[buf[b - 1 - i]]
                valid &= c != 0
                out[a + i] = c
        else:
            for i in range(b - a):
                x = buf[a + i]
                valid &= complement[x] != 0
                out[a + i] = upper[x]
        orient[r] = code
    return orient, valid


def _base_counts(buf, starts, ends, is_gc, is_acgt):
    """G+C and A+C+G+T counts (either case) of each sequence."""
    n = len(starts)
    gc = np.zeros(n, np.int64)
    acgt = np.zeros(n, np.int64)
    for r in range(n):
        g = 0
        t = 0
        for i in range(starts[r], ends[r]):
            g += is_gc[buf[i]]
            t += is_acgt[buf[i]]
        gc[r] = g
        acgt[r] = t
    return gc, acgt


@cache
def _compiled():
    """The two kernels, compiled (or loaded from numba's cache) once per process."""
    import numba

    def jit(fn):
        try:
            return numba.njit(cache=True, nogil=True)(fn)
        except RuntimeError:  # no writable cache location: compile for this process only
            return numba.njit(nogil=True)(fn)

    return jit(_canonical_forms), jit(_base_counts)


_scratch = np.empty(0, dtype=np.uint8)


def _buffer(size: int) -> np.ndarray:
    """A reused output buffer: a fresh 4 MB array per block costs a page fault per 4 kB."""
    global _scratch
    if len(_scratch) < size:
        _scratch = np.empty(size, dtype=np.uint8)
    return _scratch[:size]


def block_keys(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[bytes, bytes, bool]:
    """(16-byte digests concatenated, orientation bytes, all letters valid) of the sequences
    buf[starts[i]:ends[i]]; equal to ``canonical.batch_keys`` of those sequences."""
    forms, _ = _compiled()
    out = _buffer(len(buf))
    orient, valid = forms(buf, starts, ends, out, _UPPER, _COMPLEMENT_OF_UPPER)
    view = memoryview(out)
    digests = b"".join(map(xxh3_128_digest, map(operator.getitem, [view] * len(starts), map(slice, starts.tolist(), ends.tolist()))))
    return digests, orient.tobytes(), bool(valid)


def block_base_counts(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G+C, A+C+G+T) counts of the sequences buf[starts[i]:ends[i]], either case."""
    _, counts = _compiled()
    return counts(buf, starts, ends, _IS_GC, _IS_ACGT)
