"""Point metrics of one model on a labelled set, all computed by scikit-learn.

Threshold-free: PR-AUC (average precision), ROC-AUC, and the best F1 over all thresholds with
that threshold (optimistic: it is chosen on the very set it is measured on). At the model's own
threshold (score-regions' ``call`` column, written at the threshold chosen on validation):
precision, recall, F1, accuracy, MCC and the confusion matrix. Calibration: the reliability curve
(``calibration_curve``, uniform bins) and the expected calibration error over the same bins.
"""

from __future__ import annotations

import numpy as np

CALIBRATION_BINS = 10


def best_f1(label: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Highest F1 over all score thresholds and the threshold reaching it (p >= threshold)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(label, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    k = int(np.argmax(f1))
    return float(f1[k]), float(thresholds[k])


def expected_calibration_error(label: np.ndarray, p: np.ndarray, n_bins: int = CALIBRATION_BINS) -> float:
    """ECE: bin-size-weighted mean |fraction positive - mean predicted p| over ``n_bins`` uniform
    bins of p (the bins of calibration_curve's reliability curve); scikit-learn has no ECE."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], p)
    predicted = np.bincount(bins, weights=p, minlength=n_bins)
    observed = np.bincount(bins, weights=label, minlength=n_bins)
    return float(np.abs(observed - predicted).sum() / p.size)


def point_metrics(label: np.ndarray, p: np.ndarray, call: np.ndarray) -> dict[str, float | int]:
    """Every point metric of one model (see the module docstring)."""
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        f1_score,
        matthews_corrcoef,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    f1_best, f1_threshold = best_f1(label, p)
    tn, fp, fn, tp = confusion_matrix(label, call, labels=[0, 1]).ravel()
    return {
        "n": int(label.size),
        "n_positive": int(label.sum()),
        "pr_auc": float(average_precision_score(label, p)),
        "roc_auc": float(roc_auc_score(label, p)),
        "best_f1": f1_best,
        "best_f1_threshold": f1_threshold,
        "precision": float(precision_score(label, call, zero_division=0)),
        "recall": float(recall_score(label, call, zero_division=0)),
        "f1": float(f1_score(label, call, zero_division=0)),
        "accuracy": float(accuracy_score(label, call)),
        "mcc": float(matthews_corrcoef(label, call)),
        "tp": int(tp),
        "fp": int(fp),
        "tn": int(tn),
        "fn": int(fn),
        "ece": expected_calibration_error(label, p),
    }


def _thin(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a curve, keeping both ends (for plots, not for metrics)."""
    if x.size <= max_points:
        return x, y
    keep = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(np.int64))
    return x[keep], y[keep]


def curves(label: np.ndarray, p: np.ndarray, max_points: int = 400) -> dict[str, dict[str, list[float]]]:
    """PR, ROC and reliability curves, thinned to ``max_points`` for plotting."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    precision, recall, _ = precision_recall_curve(label, p)
    fpr, tpr, _ = roc_curve(label, p)
    prob_true, prob_pred = calibration_curve(label, p, n_bins=CALIBRATION_BINS, strategy="uniform")
    recall, precision = _thin(recall[::-1], precision[::-1], max_points)
    fpr, tpr = _thin(fpr, tpr, max_points)
    return {
        "pr": {"recall": recall.tolist(), "precision": precision.tolist()},
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()},
        "calibration": {"mean_predicted": prob_pred.tolist(), "fraction_positive": prob_true.tolist()},
    }
