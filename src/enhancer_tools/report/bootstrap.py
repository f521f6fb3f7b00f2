"""Bootstrap confidence intervals and paired bootstrap tests, vectorised with numpy.

A bootstrap resample is represented by its multiplicity weights (how often each row was drawn),
so every model is evaluated on the *same* resamples (a paired design) and each metric is a
weighted version of scikit-learn's: on integer weights, the weighted PR-AUC, ROC-AUC and best F1
here equal ``average_precision_score``/``roc_auc_score``/``precision_recall_curve`` with
``sample_weight`` (tests check this). Resamples are processed in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BOOTSTRAP_METRICS = ("pr_auc", "roc_auc", "best_f1", "precision", "recall", "f1", "accuracy", "mcc")
_CHUNK_CELLS = 4_000_000  # resamples x rows per chunk (~32 MB per float64 array)


def resample_weights(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield (chunk, n) float64 arrays of bootstrap multiplicities, n_boot rows in all."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
        done += b


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


class WeightedMetrics:
    """Weighted metrics of one model for many weight vectors at once."""

    def __init__(self, label: np.ndarray, p: np.ndarray, call: np.ndarray) -> None:
        order = np.argsort(-p, kind="stable")
        sorted_p = p[order]
        self.order = order
        starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])  # groups of tied scores
        self.group_starts = starts if starts.size < p.size else None
        self.positive_sorted = label[order].astype(np.float64)
        y = label.astype(bool)
        c = call.astype(bool)
        self.cells = np.stack([y & c, ~y & c, y & ~c, ~y & ~c], axis=1).astype(np.float64)  # tp fp fn tn

    def __call__(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Metrics for each row of ``weights`` (shape (b, n)); nan where a resample lacks a class."""
        w = weights[:, self.order]
        pos_g = w * self.positive_sorted
        if self.group_starts is not None:
            pos_g = np.add.reduceat(pos_g, self.group_starts, axis=1)
            w = np.add.reduceat(w, self.group_starts, axis=1)
        neg_g = w - pos_g
        tp_k = np.cumsum(pos_g, axis=1)  # at each threshold, from the highest score down
        fp_k = np.cumsum(neg_g, axis=1)
        n_pos, n_neg = tp_k[:, -1], fp_k[:, -1]
        valid = (n_pos > 0) & (n_neg > 0)
        nan = np.full(n_pos.shape, np.nan)

        precision_k = _safe_div(tp_k, tp_k + fp_k)
        pr_auc = np.where(valid, _safe_div((pos_g * precision_k).sum(axis=1), n_pos), nan)
        beaten = n_neg[:, None] - fp_k + 0.5 * neg_g  # negatives scored below (ties count half)
        roc_auc = np.where(valid, _safe_div((pos_g * beaten).sum(axis=1), n_pos * n_neg), nan)
        best_f1 = np.where(valid, _safe_div(2 * tp_k, tp_k + fp_k + n_pos[:, None]).max(axis=1), nan)

        tp, fp, fn, tn = (weights @ self.cells).T
        mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        return {
            "pr_auc": pr_auc,
            "roc_auc": roc_auc,
            "best_f1": best_f1,
            "precision": _safe_div(tp, tp + fp),
            "recall": _safe_div(tp, tp + fn),
            "f1": _safe_div(2 * tp, 2 * tp + fp + fn),
            "accuracy": _safe_div(tp + tn, tp + fp + fn + tn),
            "mcc": _safe_div(tp * tn - fp * fn, mcc_den),
        }


def bootstrap_distributions(models, n_boot: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Per model name, per metric: the n_boot bootstrap values, all models on the same resamples.

    ``models`` are ModelScores already paired by id (same rows in the same order).
    """
    evaluators = {m.name: WeightedMetrics(m.label, m.p, m.call) for m in models}
    parts: dict[str, dict[str, list[np.ndarray]]] = {name: {k: [] for k in BOOTSTRAP_METRICS} for name in evaluators}
    for weights in resample_weights(len(models[0].label), n_boot, seed):
        for name, evaluate in evaluators.items():
            for key, values in evaluate(weights).items():
                parts[name][key].append(values)
    return {name: {k: np.concatenate(v) for k, v in per.items()} for name, per in parts.items()}


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval, ignoring resamples where the metric was undefined."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Paired bootstrap test of metric(a) - metric(b) on shared resamples.

    Returns the interval of the difference and a two-sided p-value: twice the smaller fraction of
    resamples on either side of zero, with the +1 correction so it is never exactly 0.
    """
    d = a - b
    d = d[np.isfinite(d)]
    if d.size == 0:
        return {"ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
    low, high = percentile_ci(d, level)
    below = (1 + np.count_nonzero(d <= 0)) / (d.size + 1)
    above = (1 + np.count_nonzero(d >= 0)) / (d.size + 1)
    return {"ci_low": low, "ci_high": high, "p_value": float(min(1.0, 2.0 * min(below, above)))}
