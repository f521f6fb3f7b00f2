"""The canonical key: one value for a sequence and its reverse complement, case-insensitive,
IUPAC complement rules, N an ordinary letter."""

import random

from enhancer_tools.dataset.canonical import (
    FORWARD, PALINDROME, REVERSE, batch_keys, canonical_key, canonical_sequence, orientation,
)
from enhancer_tools.seq import reverse_complement


def test_sequence_and_reverse_complement_share_a_key():
    assert canonical_key("ACGTTGCAAATC") == canonical_key("GATTTGCAACGT")
    assert canonical_sequence("GATTTGCAACGT") == b"ACGTTGCAAATC"


def test_case_is_ignored():
    assert canonical_key("acgtTGCAaatc") == canonical_key("ACGTTGCAAATC") == canonical_key(b"gatttgcaacgt")


def test_different_sequences_differ():
    assert canonical_key("ACGTTGCAAATC") != canonical_key("ACGTTGCAAATG")


def test_n_is_a_letter_not_a_wildcard():
    assert canonical_key("ACNT") != canonical_key("ACGT")
    assert canonical_key("ACNT") == canonical_key("ANGT")  # its reverse complement


def test_iupac_codes_complement():
    seq = "CCNNRYAAGTTAKMBVDHSW"
    assert canonical_key(seq) == canonical_key(reverse_complement(seq))
    assert canonical_key("R") == canonical_key("Y") and canonical_key("K") == canonical_key("M")
    assert canonical_key("B") == canonical_key("V") and canonical_key("D") == canonical_key("H")
    assert canonical_key("R") != canonical_key("N")


def test_orientation_codes():
    assert orientation("AAAA") == FORWARD
    assert orientation("TTTT") == REVERSE
    assert orientation("ACGT") == PALINDROME


def test_batch_keys_equal_one_at_a_time():
    rng = random.Random(3)
    seqs = ["".join(rng.choice("ACGTNacgtnRY") for _ in range(rng.randint(1, 40))) for _ in range(300)]
    seqs += ["ACGT", "acgt", "TTTT"]
    digests, orient, valid = batch_keys([s.encode() for s in seqs])
    assert valid
    for i, s in enumerate(seqs):
        assert digests[16 * i : 16 * i + 16] == canonical_key(s).to_bytes(16, "big")
        assert orient[i] == orientation(s)


def test_batch_keys_flag_non_iupac_letters():
    assert not batch_keys([b"ACGT", b"ACXT"])[2]
    assert not batch_keys([b"AC>T"])[2]


def _block(seqs):
    """A FASTA block and the [start, end) of each sequence in it, as numpy arrays."""
    import numpy as np

    text, starts, ends = b"", [], []
    for i, s in enumerate(seqs):
        text += b">r%d x\n" % i
        starts.append(len(text))
        text += s + b"\n"
        ends.append(len(text) - 1)
    return np.frombuffer(text, dtype=np.uint8), np.array(starts), np.array(ends)


def test_compiled_block_keys_equal_batch_keys():
    from enhancer_tools.dataset.canonical_block import block_base_counts, block_keys

    rng = random.Random(5)
    seqs = [("".join(rng.choice("ACGTNacgtnRYKMBVDHSWrykmbvdhsw") for _ in range(rng.randint(1, 60)))).encode()
            for _ in range(500)]
    seqs += [b"ACGT", b"acgt", b"TTTT", b"AAAA", b"A", b"N", b"GC", b"gC"]
    assert block_keys(*_block(seqs)) == batch_keys(seqs)
    gc, acgt = block_base_counts(*_block(seqs))
    for s, g, t in zip(seqs, gc.tolist(), acgt.tolist()):
        u = s.upper()
        assert (g, t) == (u.count(b"G") + u.count(b"C"), sum(u.count(b) for b in (b"A", b"C", b"G", b"T")))


def test_compiled_block_keys_flag_non_iupac_letters():
    from enhancer_tools.dataset.canonical_block import block_keys

    for bad in (b"ACXT", b"AC>T", b"AC T", b"ACU", b"AC-T", b"AC*T"):
        assert not block_keys(*_block([b"ACGT", bad, b"GGCC"]))[2], bad
    assert block_keys(*_block([b"ACGT", b"GGCC"]))[2]
