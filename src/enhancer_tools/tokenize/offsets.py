"""Where each DNABERT-2 token lies in its sequence, and spreading per-token values back to bases.

A token's attribution (integrated gradients on its embedding) belongs to all of its bases at
once; ``spread_to_bases`` gives each base ``value / token_length``, so the bases of a token sum
to the token's value. Offsets are those of ``tokenize.encode.encode_sequences``' tokens (same
upper-casing, same truncation to ``max_length - 2`` sequence tokens); bases past the truncation
get no token and keep 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def token_offsets(tokenizer, seqs: Sequence[str], max_length: int) -> list[list[tuple[int, int]]]:
    """Per sequence, the half-open base range ``(start, end)`` of each sequence token (no
    [CLS]/[SEP]), in the order of ``encode_sequences``' ids between [CLS] and [SEP]."""
    keep = max_length - 2
    encodings = tokenizer.encode_batch([s.upper() for s in seqs], add_special_tokens=False)
    return [[(int(a), int(b)) for a, b in enc.offsets[:keep]] for enc in encodings]


def spread_to_bases(token_values: np.ndarray, offsets: Sequence[tuple[int, int]], length: int) -> np.ndarray:
    """Per-base values [length]: each token's value divided evenly over its bases."""
    out = np.zeros(length, dtype=np.float64)
    for value, (start, end) in zip(np.asarray(token_values, dtype=np.float64), offsets):
        if end > start:
            out[start:end] += value / (end - start)
    return out
