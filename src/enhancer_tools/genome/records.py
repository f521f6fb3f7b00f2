"""FASTA/BED text for many windows at once, built as byte matrices.

Records are assembled as rows of a byte matrix made of fixed-width column blocks, with zero
bytes as padding, which one ``bytes.replace`` removes before writing: no per-record Python
work for a million windows.
"""

from __future__ import annotations

import numpy as np

_UPPER_TABLE = bytes(range(256)).upper()
_COMPLEMENT_TABLE = bytes.maketrans(b"ACGTRYKMBVDHSWNacgtrykmbvdhswn", b"TGCAYRMKVBHDSWNtgcayrmkvbhdswn")


def text_block(values: np.ndarray) -> np.ndarray:
    """A fixed-width bytes array as a (n, width) uint8 matrix (zero-padded on the right)."""
    values = np.ascontiguousarray(values)
    return values.view(np.uint8).reshape(len(values), values.dtype.itemsize)


def digits_block(values: np.ndarray) -> np.ndarray:
    """Non-negative integers as right-aligned decimal digits with zero-byte padding."""
    width = len(str(int(values.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers) % 10 + 48
    digits[(powers > values[:, None]) & (powers > 1)] = 0
    return digits.astype(np.uint8)


def const_block(text: bytes, n: int) -> np.ndarray:
    """The same text on every one of ``n`` rows (a read-only broadcast view)."""
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (n, len(text)))


def assemble(blocks: list[np.ndarray]) -> bytes:
    """Concatenate column blocks row by row and drop the zero padding."""
    return np.concatenate(blocks, axis=1).tobytes().replace(b"\0", b"")


def sequence_block(block: np.ndarray, rel: np.ndarray, lengths: np.ndarray, width: int, rc: np.ndarray, upper: bool,
                   count_n: bool = True):
    """Window sequences as a (n, width) matrix (shorter windows zero-padded on the right),
    reverse-complemented where ``rc``, and the N count of each window (zeros unless ``count_n``)."""
    n_count = np.zeros(len(rel), dtype=np.int64)
    if count_n:
        n_cum = np.zeros(len(block) + 1, dtype=np.int32)
        np.cumsum((block == ord("N")) | (block == ord("n")), out=n_cum[1:])
        n_count = n_cum[rel + lengths] - n_cum[rel]
    full = lengths == width
    if full.all():
        seqs = np.lib.stride_tricks.sliding_window_view(block, width)[rel]
    else:
        seqs = np.zeros((len(rel), width), dtype=np.uint8)
        for i in range(len(rel)):
            seqs[i, : lengths[i]] = block[rel[i] : rel[i] + lengths[i]]
    if upper:
        seqs = _translate(seqs, _UPPER_TABLE)
    flip = np.flatnonzero(rc & full)
    if len(flip):
        seqs[flip] = _translate(seqs[flip, ::-1], _COMPLEMENT_TABLE)
    for i in np.flatnonzero(rc & ~full).tolist():
        seqs[i, : lengths[i]] = _translate(seqs[i, lengths[i] - 1 :: -1], _COMPLEMENT_TABLE)
    return seqs, n_count


def _translate(matrix: np.ndarray, table: bytes) -> np.ndarray:
    """Map every byte through ``table`` (bytes.translate runs at memory speed; a numpy lookup
    table does not)."""
    return np.frombuffer(np.ascontiguousarray(matrix).tobytes().translate(table), dtype=np.uint8).reshape(matrix.shape)
