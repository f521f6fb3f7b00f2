"""FASTA/BED text for many windows at once, built as byte matrices.

Records are assembled as rows of a byte matrix made of fixed-width column blocks, with zero
bytes as padding, which one ``bytes.replace`` removes before writing: no per-record Python
work for a million windows.
"""

from __future__ import annotations

import numpy as np

UPPER = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
COMPLEMENT = np.frombuffer(bytes(range(256)).translate(bytes.maketrans(
    b"ACGTRYKMBVDHSWNacgtrykmbvdhswn", b"TGCAYRMKVBHDSWNtgcayrmkvbhdswn")), dtype=np.uint8)
IS_N = np.zeros(256, dtype=bool)
IS_N[[ord("N"), ord("n")]] = True


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
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (n, len(text)))


def assemble(blocks: list[np.ndarray]) -> bytes:
    """Concatenate column blocks row by row and drop the zero padding."""
    return np.concatenate(blocks, axis=1).tobytes().replace(b"\0", b"")


def sequence_block(block: np.ndarray, rel: np.ndarray, lengths: np.ndarray, width: int, rc: np.ndarray, upper: bool):
    """Window sequences as a (n, width + 1) matrix (sequence, newline, zero padding after a
    shorter window's newline) and the N count of each window."""
    n_cum = np.zeros(len(block) + 1, dtype=np.int32)
    np.cumsum(IS_N[block], out=n_cum[1:])
    n_count = n_cum[rel + lengths] - n_cum[rel]
    full = lengths == width
    if full.all():
        out = np.empty((len(rel), width + 1), dtype=np.uint8)
        out[:, :width] = np.lib.stride_tricks.sliding_window_view(block, width)[rel]
    else:
        out = np.zeros((len(rel), width + 1), dtype=np.uint8)
        for i in range(len(rel)):
            out[i, : lengths[i]] = block[rel[i] : rel[i] + lengths[i]]
    out[np.arange(len(rel)), lengths] = ord("\n")
    if upper:
        out = UPPER[out]
    flip = np.flatnonzero(rc & full)
    if len(flip):
        out[flip, :width] = COMPLEMENT[out[flip, width - 1 :: -1]]
    for i in np.flatnonzero(rc & ~full).tolist():
        out[i, : lengths[i]] = COMPLEMENT[out[i, lengths[i] - 1 :: -1]]
    return out, n_count
