"""Calibration chosen on the validation set: a temperature for probabilities, then a threshold.

The temperature T is fitted by minimising the negative log-likelihood of sigmoid(logit / T)
(LBFGS on log T, so T stays positive). The threshold is the best-F1 cut on the calibrated
probability, placed midway to the next lower validation probability (``decision_threshold``);
scaling by T keeps the ranking, so calling ``p >= threshold`` makes the same calls as the best-F1
cut on raw scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from enhancer_tools.metrics.binary import decision_threshold, sigmoid

_MIN_LOG_T, _MAX_LOG_T = -5.0, 5.0


@dataclass
class Calibration:
    """Temperature and decision threshold (on the calibrated probability) of a model."""

    temperature: float = 1.0
    threshold: float = 0.5
    chosen_on: str = "validation"

    def as_dict(self) -> dict:
        return asdict(self)

    def probability(self, logodds) -> np.ndarray:
        """Calibrated probability of the positive class."""
        return sigmoid(np.asarray(logodds, dtype=np.float64) / self.temperature)


def fit_temperature(logodds, labels) -> float:
    """The temperature minimising the validation NLL (1.0 when there is only one class)."""
    import torch

    y = np.asarray(labels, dtype=np.float64).ravel()
    z = np.asarray(logodds, dtype=np.float64).ravel()
    if y.size == 0 or y.min() == y.max():
        return 1.0
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(zt / log_t.exp(), yt)
        loss.backward()
        return loss

    opt.step(closure)
    value = float(log_t.detach().clamp(_MIN_LOG_T, _MAX_LOG_T))
    return float(np.exp(value)) if np.isfinite(value) else 1.0


def calibrate(logodds, labels) -> Calibration:
    """Fit the temperature, then choose the best-F1 threshold on the calibrated probabilities."""
    temperature = fit_temperature(logodds, labels)
    prob = sigmoid(np.asarray(logodds, dtype=np.float64) / temperature)
    return Calibration(temperature=temperature, threshold=min(decision_threshold(labels, prob), 1.0))
