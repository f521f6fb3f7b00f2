"""In-silico saturation mutagenesis through a model's own scorer.

Every single-base substitution of a region (or of its ``[start, end)`` slice) is built as a
sequence and scored with ``LoadedModel.logits``, so a DNABERT-2 model re-tokenises each mutant
(a substitution can change the BPE segmentation, and that is what the model sees). The identity
edit is skipped; a non-ACGT reference base (N) is mutated to all four bases.

Effect of a substitution, in calibrated log-odds (T = the model's calibration temperature,
z = raw log-odds; with RC averaging z is the mean of both strands, exactly as score-regions
averages them)::

    delta = (z(mutant) - z(reference)) / T  =  logit(p_mutant) - logit(p_reference)

where p is score-regions' p. All mutants of a region go through the scorer in one call
(``batch_size`` sequences per forward pass): a 1 kb window costs 3,000 sequences per strand.
A scorer with ``substitution_logodds`` (EnhancerNet: ``models.enhancernet_ism``) gives the
same log-odds by recomputing only the layers' windows a substitution reaches, ~20x faster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from enhancer_tools.seq import reverse_complement

BASES = "ACGT"


def strand_symmetric(model) -> bool:
    """Whether the model already averages both strands itself (an EnhancerNet with ``rc_share``:
    it scores a sequence and its reverse complement as the same two terms in swapped order, so
    both give bit-identical log-odds); then the reverse strand need not be scored again."""
    return bool(model.config.get("rc_share")) and model.kind == "enhancernet"


def strand_logodds(model, seqs: Sequence[str], rc_average: bool, batch_size: int) -> np.ndarray:
    """Raw log-odds of ``seqs``; with ``rc_average`` the mean of both strands (score-regions' z)."""
    z = model.logits(seqs, batch_size)
    if rc_average and not strand_symmetric(model):
        z = (z + model.logits([reverse_complement(s) for s in seqs], batch_size)) / 2.0
    return z


def mutants(seq: str, start: int, end: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The single-base substitutions of ``seq[start:end]``: (sequences, base index 0-3,
    position relative to ``start``), identity edits left out."""
    seqs, base_idx, pos_idx = [], [], []
    for pos in range(start, end):
        ref = seq[pos]
        for b, base in enumerate(BASES):
            if base != ref:
                seqs.append(seq[:pos] + base + seq[pos + 1:])
                base_idx.append(b)
                pos_idx.append(pos - start)
    return seqs, np.array(base_idx, dtype=np.int64), np.array(pos_idx, dtype=np.int64)


def ism(model, seq: str, start: int = 0, end: int | None = None, rc_average: bool = True,
        batch_size: int = 128) -> np.ndarray:
    """Δ log-odds [4, end - start] (A, C, G, T) of every substitution of ``seq[start:end]``,
    divided by the calibration temperature; 0 at the reference base (see the module docstring)."""
    seq = seq.upper()
    end = len(seq) if end is None else end
    if not 0 <= start < end <= len(seq):
        raise ValueError(f"slice [{start}, {end}) is outside a sequence of {len(seq)} bp")
    temperature = float(model.calibration.temperature)
    if hasattr(model.scorer, "substitution_logodds"):
        return _local_ism(model, seq, start, end, rc_average) / temperature
    ref = strand_logodds(model, [seq], rc_average, batch_size)[0]
    seqs, base_idx, pos_idx = mutants(seq, start, end)
    out = np.zeros((4, end - start), dtype=np.float64)
    out[base_idx, pos_idx] = (strand_logodds(model, seqs, rc_average, batch_size) - ref) / temperature
    return out


def _local_ism(model, seq: str, start: int, end: int, rc_average: bool) -> np.ndarray:
    """Δ raw log-odds [4, end - start] from the scorer's own shortcut (both strands like
    ``strand_logodds``: the reverse strand's table is reversed and complemented back)."""
    ref, z = model.scorer.substitution_logodds(seq, start, end)
    if rc_average and not strand_symmetric(model):
        ref_rc, z_rc = model.scorer.substitution_logodds(reverse_complement(seq), len(seq) - end, len(seq) - start)
        ref, z = (ref + ref_rc) / 2, (z + z_rc[::-1, ::-1]) / 2
    return z - ref


def hypothetical_from_ism(delta: np.ndarray) -> np.ndarray:
    """Hypothetical contributions [4, L] from ISM effects: each base's effect minus the mean of
    the four at that position (tfmodisco-lite's input; the reference base counts as 0)."""
    return delta - delta.mean(axis=0, keepdims=True)
