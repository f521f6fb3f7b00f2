"""Binary classification metrics used by every trainer (the ``validation`` keys of the metrics JSON).

Plain numpy (tested against scikit-learn): training imports stay light and the numbers are
the same as sklearn's roc_auc_score and average_precision_score.
"""

from __future__ import annotations

import numpy as np


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    return y, s


def _both_classes(y: np.ndarray) -> bool:
    return y.size > 0 and 0 < int(y.sum()) < y.size


def _curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, highest first, and those scores."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    return tp, fp, s[last_of_tie]


def roc_auc(labels, scores) -> float | None:
    """Area under the ROC curve (ties count one half); None when only one class is present."""
    y, s = _check(labels, scores)
    if not _both_classes(y):
        return None
    tp, fp, _ = _curve(y, s)
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def pr_auc(labels, scores) -> float | None:
    """Area under the precision-recall curve as average precision (the step sum
    sum_n (R_n - R_n-1) P_n, as scikit-learn computes it); None without positives."""
    y, s = _check(labels, scores)
    if y.sum() == 0:
        return None
    tp, fp, _ = _curve(y, s)
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def best_f1_threshold(labels, scores) -> tuple[float, float]:
    """The highest F1 over all thresholds and the score threshold reaching it.

    A sequence is called positive when ``score >= threshold``. Without positives the result
    is (0.0, +inf): nothing should be called.
    """
    y, s = _check(labels, scores)
    if y.sum() == 0:
        return 0.0, float("inf")
    tp, fp, thresholds = _curve(y, s)
    f1 = 2 * tp / (tp + fp + tp[-1])  # 2TP / (2TP + FP + FN), FN = P - TP
    best = int(np.argmax(f1))
    return float(f1[best]), float(thresholds[best])


def decision_threshold(labels, scores) -> float:
    """The best-F1 cut as a model's decision threshold: midway between the lowest score it calls
    positive and the next lower score. The same calls on these scores, but a score computed again
    later (another batch size, thread count or device) that differs in the last bit cannot flip
    the call of the sequence at the cut."""
    return _midway_below(scores, best_f1_threshold(labels, scores)[1])


def _midway_below(scores, cut: float) -> float:
    s = np.asarray(scores, dtype=np.float64)
    below = s[s < cut]
    return float((cut + below.max()) / 2) if below.size and np.isfinite(cut) else cut


def logistic_loss(labels, logodds) -> float:
    """Mean binary cross-entropy of log-odds scores (natural log)."""
    y, z = _check(labels, logodds)
    # log(1 + exp(-z)) for positives, log(1 + exp(z)) for negatives, computed stably.
    signed = np.where(y == 1, -z, z)
    return float(np.mean(np.logaddexp(0.0, signed))) if y.size else float("nan")


def sigmoid(x) -> np.ndarray:
    """Numerically stable logistic function."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def binary_metrics(labels, logodds, temperature: float = 1.0) -> dict:
    """``roc_auc``, ``pr_auc``, ``best_f1``, ``threshold`` (``decision_threshold`` of the probability
    sigmoid(logodds / temperature)), ``loss`` (cross-entropy of the uncalibrated log-odds) and ``n``."""
    y, z = _check(labels, logodds)
    prob = sigmoid(z / temperature)
    f1, cut = best_f1_threshold(y, prob)
    return {
        "roc_auc": roc_auc(y, prob),
        "pr_auc": pr_auc(y, prob),
        "best_f1": f1,
        "threshold": _midway_below(prob, cut),
        "loss": logistic_loss(y, z),
        "n": int(y.size),
        "n_positive": int(y.sum()),
    }
