"""The canonical key of a DNA sequence: one value for a sequence and its reverse complement,
whatever their case.

Key = xxh3-128 of min(U, revcomp(U)) where U is the sequence upper-cased and the minimum is
bytewise (lexicographic). IUPAC codes follow the complement rules of ``enhancer_tools.seq``
(R<->Y, K<->M, B<->V, D<->H; S, W and N are their own complement). N and the other
ambiguity codes are ordinary letters here: ``ACNT`` matches only ``ACNT`` (or its reverse
complement ``ANGT``), never ``ACGT``. Two different sequences share a key only on a 128-bit
hash collision (about 1e-26 for 2.34 million sequences).
"""

from __future__ import annotations

import operator
from itertools import repeat

from xxhash import xxh3_128_digest, xxh3_128_intdigest

_COMPLEMENT_UPPER = bytes.maketrans(b"ACGTRYKMBVDHSWN", b"TGCAYRMKVBHDSWN")
# The same, but every byte that is not an upper-case IUPAC letter becomes NUL: validation for
# free (``batch_keys`` here and the compiled kernel of ``canonical_block``).
COMPLEMENT_OR_NUL = bytes(_COMPLEMENT_UPPER[b] if chr(b) in "ACGTRYKMBVDHSWN" else 0 for b in range(256))
_REVERSE = slice(None, None, -1)

# Orientation codes of a sequence relative to its canonical form.
FORWARD, REVERSE, PALINDROME = 0, 1, 2


def _as_bytes(seq: str | bytes) -> bytes:
    return seq.encode("ascii") if isinstance(seq, str) else seq


def canonical_sequence(seq: str | bytes) -> bytes:
    """min(upper(seq), revcomp(upper(seq))) as bytes."""
    up = _as_bytes(seq).upper()
    return min(up, up.translate(_COMPLEMENT_UPPER)[::-1])


def canonical_key(seq: str | bytes) -> int:
    """The 128-bit canonical key of one sequence (see the module docstring)."""
    return xxh3_128_intdigest(canonical_sequence(seq))


def orientation(seq: str | bytes) -> int:
    """FORWARD when the upper-cased sequence is its own canonical form, REVERSE when its reverse
    complement is, PALINDROME when both are equal."""
    up = _as_bytes(seq).upper()
    rc = up.translate(_COMPLEMENT_UPPER)[::-1]
    return PALINDROME if up == rc else REVERSE if up > rc else FORWARD


def batch_keys(seqs: list[bytes]) -> tuple[bytes, bytes, bool]:
    """Keys and orientations of many sequences at once, without a Python-level loop.

    Returns (16-byte big-endian digests concatenated, one orientation code byte per sequence,
    whether every sequence holds only IUPAC letters); the digest of sequence i equals
    ``canonical_key(seqs[i]).to_bytes(16, "big")`` when they are valid.
    """
    ups = list(map(bytes.upper, seqs))
    rcs = list(map(operator.getitem, map(bytes.translate, ups, repeat(COMPLEMENT_OR_NUL)), repeat(_REVERSE)))
    valid = not any(map(operator.contains, rcs, repeat(0)))
    digests = b"".join(map(xxh3_128_digest, map(min, ups, rcs)))
    reverse = bytes(map(operator.gt, ups, rcs))
    palindrome = bytes(map(operator.eq, ups, rcs))
    orient = bytes(map(operator.add, reverse, map(operator.mul, palindrome, repeat(2))))
    return digests, orient, valid
