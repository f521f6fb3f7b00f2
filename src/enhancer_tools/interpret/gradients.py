"""Integrated-gradient attributions of a loaded model, reverse-complement averaged like
score-regions and in calibrated log-odds (divided by the model's temperature, as ISM effects).

With RC averaging the attribution of a sequence is the mean of its own and the flipped
attribution of its reverse complement (flipping reverses the positions and the A, C, G, T
channels), i.e. the attribution of score-regions' strand-averaged log-odds; so a sequence and
its reverse complement get attributions that are each other's flip.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.interpret.ism import strand_symmetric
from enhancer_tools.seq import reverse_complement


def has_gradients(model) -> bool:
    """Whether the loaded model's scorer offers gradient attributions (the k-mer kind has none)."""
    return callable(getattr(model.scorer, "integrated_gradients", None))


def require_gradients(model) -> None:
    """UserError naming the kind when the model has no gradients."""
    if not has_gradients(model):
        raise UserError(f"the {model.kind} model has no gradients (integrated gradients need a torch model); "
                        "use --method ism")


def flip(values: np.ndarray) -> np.ndarray:
    """The [4, L] attribution of the reverse-complement strand, in forward coordinates."""
    return values[::-1, ::-1]


def integrated_gradients(model, seqs: Sequence[str], rc_average: bool = True, steps: int = 32,
                         batch_size: int = 64) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(attributions, hypothetical contributions), each a list of [4, len(seq)] arrays."""
    require_gradients(model)
    temperature = float(model.calibration.temperature)
    seqs = [s.upper() for s in seqs]
    forward = model.scorer.integrated_gradients(seqs, steps, batch_size)
    values = [a.values for a in forward]
    hyp = [a.hypothetical for a in forward]
    if rc_average and not strand_symmetric(model):  # a symmetric model's IG is already flip-symmetric
        reverse = model.scorer.integrated_gradients([reverse_complement(s) for s in seqs], steps, batch_size)
        values = [(v + flip(r.values)) / 2.0 for v, r in zip(values, reverse)]
        hyp = [(h + flip(r.hypothetical)) / 2.0 for h, r in zip(hyp, reverse)]
    return [v / temperature for v in values], [h / temperature for h in hyp]
