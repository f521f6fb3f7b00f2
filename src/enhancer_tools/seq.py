"""DNA sequence helpers shared by every tool: IUPAC reverse complement, base composition."""

from __future__ import annotations

IUPAC_DNA = "ACGTNRYSWKMBDHV"
# IUPAC complement: R<->Y, K<->M, B<->V, D<->H, S, W and N map to themselves; case is kept.
_COMPLEMENT = str.maketrans(
    "ACGTRYKMBVDHSWNacgtrykmbvdhswn",
    "TGCAYRMKVBHDSWNtgcayrmkvbhdswn",
)
VALID_BYTES = frozenset((IUPAC_DNA + IUPAC_DNA.lower()).encode())
_DELETE_VALID = bytes(sorted(VALID_BYTES))


def reverse_complement(seq: str) -> str:
    """Reverse complement of an IUPAC DNA string, keeping each base's case."""
    return seq.translate(_COMPLEMENT)[::-1]


def invalid_characters(seq: bytes) -> bytes:
    """The bytes of ``seq`` that are not IUPAC DNA letters (empty when the sequence is valid)."""
    return seq.translate(None, _DELETE_VALID)


def gc_fraction(seq: str) -> float:
    """G+C over A+C+G+T (case-insensitive); ambiguous bases are left out; 0.0 when none."""
    up = seq.upper()
    gc = up.count("G") + up.count("C")
    at = up.count("A") + up.count("T")
    return gc / (gc + at) if gc + at else 0.0


def n_fraction(seq: str) -> float:
    """Fraction of positions that are not A/C/G/T (N and other IUPAC codes), case-insensitive."""
    if not seq:
        return 0.0
    up = seq.upper()
    acgt = up.count("A") + up.count("C") + up.count("G") + up.count("T")
    return 1.0 - acgt / len(seq)
