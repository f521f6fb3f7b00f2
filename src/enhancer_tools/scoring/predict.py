"""Batched, reverse-complement-averaged scoring of a record stream with a loaded model.

How the numbers combine (T = the model's calibration temperature, z = the model's positive-class
log-odds before temperature):

- ``p_forward = sigmoid(z(seq) / T)`` and ``p_reverse = sigmoid(z(revcomp(seq)) / T)``;
- with averaging (the default) the log-odds are averaged first, then calibrated:
  ``p = sigmoid(((z(seq) + z(revcomp(seq))) / 2) / T)``. Averaging log-odds (not
  probabilities) keeps the temperature a plain rescaling of one number, the same one the
  training tool calibrated. Since the two strands enter symmetrically, a sequence and its
  reverse complement get the same ``p``;
- without averaging (``rc_average=False``) the reverse strand is not scored:
  ``p = p_forward`` and ``p_reverse`` is None;
- ``call = p >= threshold`` (the calibration's threshold unless overridden).

Streaming: a producer thread reads records, upper-cases them and encodes both strands into
one model-ready batch (forward strands then reverse strands: one forward pass and one
device-to-host copy per batch) while the calling thread runs the model; at most
``queue_batches`` encoded batches wait in between, so memory stays constant whatever the
input size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from enhancer_tools.io.prefetch import prefetch
from enhancer_tools.metrics.binary import sigmoid
from enhancer_tools.scoring.sources import ScoreRecord
from enhancer_tools.seq import reverse_complement



@dataclass
class ScoredBatch:
    """One batch of records with their scores (numpy arrays aligned with ``records``)."""

    records: list[ScoreRecord]
    p_forward: np.ndarray
    p_reverse: np.ndarray | None
    p: np.ndarray
    call: np.ndarray



def _batched(records: Iterable[ScoreRecord], size: int) -> Iterator[list[ScoreRecord]]:
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class Predictor:
    """Scores record streams with ``model`` (a ``registry.LoadedModel``) through its scorer's
    public ``encode`` (producer thread) and ``logodds`` (calling thread)."""

    def __init__(self, model, batch_size: int = 128, rc_average: bool = True, threshold: float | None = None,
                 queue_batches: int = 4) -> None:
        self.scorer = model.scorer
        self.batch_size = batch_size
        self.rc_average = rc_average
        self.temperature = float(model.calibration.temperature)
        self.threshold = float(model.calibration.threshold if threshold is None else threshold)
        self.queue_batches = queue_batches

    def _encode(self, chunk: list[ScoreRecord]):
        seqs = [r.seq.upper() for r in chunk]
        if self.rc_average:
            seqs = seqs + [reverse_complement(s) for s in seqs]
        return chunk, self.scorer.encode(seqs)

    def _combine(self, chunk: list[ScoreRecord], z_forward: np.ndarray, z_reverse: np.ndarray | None) -> ScoredBatch:
        t = self.temperature
        p_forward = sigmoid(z_forward / t)
        if z_reverse is None:
            p_reverse, p = None, p_forward
        else:
            p_reverse = sigmoid(z_reverse / t)
            p = sigmoid(((z_forward + z_reverse) / 2.0) / t)
        return ScoredBatch(chunk, p_forward, p_reverse, p, p >= self.threshold)

    def score(self, records: Iterable[ScoreRecord]) -> Iterator[ScoredBatch]:
        """Yield scored batches in input order; an error in reading or encoding the input is
        raised here, in the calling thread."""
        encoded = (self._encode(chunk) for chunk in _batched(records, self.batch_size))
        for chunk, batch in prefetch(encoded, self.queue_batches, "score-regions-encoder"):
            z = self.scorer.logodds(batch)  # both strands in one forward
            z_forward, z_reverse = (z[:len(chunk)], z[len(chunk):]) if self.rc_average else (z, None)
            yield self._combine(chunk, z_forward, z_reverse)
