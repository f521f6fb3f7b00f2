"""metrics.binary agrees with scikit-learn on known inputs (ties, constant scores, one class)."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from enhancer_tools.metrics.binary import (
    best_f1_threshold,
    binary_metrics,
    decision_threshold,
    logistic_loss,
    pr_auc,
    roc_auc,
)

CASES = [
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
    ([1, 0, 1, 0, 1], [0.5, 0.5, 0.5, 0.2, 0.9]),  # ties across classes
    ([0, 1, 0, 1, 1, 0], [3, 3, 3, 3, 3, 3]),  # constant scores
    ([1, 1, 0, 0, 0, 0, 0, 1], [-2.0, 1.0, 0.5, -1.0, 0.0, 0.5, -3.0, 2.0]),
]


@pytest.mark.parametrize("labels,scores", CASES)
def test_auc_matches_sklearn(labels, scores):
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert pr_auc(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_random_inputs_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        s = np.round(rng.normal(size=200) + y, 1)  # rounding makes ties
        assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
        f1, threshold = best_f1_threshold(y, s)
        p, r, _ = precision_recall_curve(y, s)
        with np.errstate(invalid="ignore", divide="ignore"):
            assert f1 == pytest.approx(np.nanmax(2 * p * r / (p + r)), abs=1e-12)
        assert f1 == pytest.approx(f1_score(y, s >= threshold), abs=1e-12)


@pytest.mark.parametrize("labels,scores", CASES)
def test_best_f1_threshold_is_reached(labels, scores):
    f1, threshold = best_f1_threshold(labels, scores)
    calls = np.asarray(scores) >= threshold
    assert f1 == pytest.approx(f1_score(labels, calls), abs=1e-12)


def test_one_class():
    assert roc_auc([1, 1], [0.2, 0.3]) is None
    assert pr_auc([0, 0], [0.2, 0.3]) is None
    assert best_f1_threshold([0, 0], [0.2, 0.3]) == (0.0, float("inf"))


def test_logistic_loss_and_keys():
    y = np.array([0, 1, 1, 0])
    z = np.array([-1.0, 2.0, 0.0, 0.5])
    expected = np.mean([np.log1p(np.exp(-1.0)), np.log1p(np.exp(-2.0)), np.log(2.0), np.log1p(np.exp(0.5))])
    assert logistic_loss(y, z) == pytest.approx(expected)
    m = binary_metrics(y, z)
    assert {"roc_auc", "pr_auc", "best_f1", "threshold", "loss"} <= set(m)
    assert 0.0 < m["threshold"] < 1.0  # a probability


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        roc_auc([0, 1], [0.1])


def test_decision_threshold_sits_midway_below_the_best_f1_cut():
    y = [1, 1, 0, 1, 0, 0]
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
    _, cut = best_f1_threshold(y, s)
    t = decision_threshold(y, s)
    assert cut == 0.6 and t == pytest.approx(0.45)
    assert np.array_equal(s >= t, s >= cut), "the same calls on the scores it was chosen on"
    assert np.nextafter(0.6, 0) >= t, "a last-bit lower score at the cut keeps its call"
    assert decision_threshold([1, 1], [0.4, 0.2]) == 0.2, "nothing below the cut: the cut itself"
    assert decision_threshold([0, 0], [0.2, 0.3]) == float("inf")
