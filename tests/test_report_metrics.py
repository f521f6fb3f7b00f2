"""report's metrics, bootstrap intervals and paired test, checked against scikit-learn."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, f1_score, matthews_corrcoef, precision_recall_curve, roc_auc_score

from enhancer_tools.errors import UserError
from enhancer_tools.report.bootstrap import WeightedMetrics, bootstrap_distributions, paired_difference, percentile_ci, resample_weights
from enhancer_tools.report.evaluate import evaluate, find_floor
from enhancer_tools.report.metrics import best_f1, expected_calibration_error, point_metrics
from enhancer_tools.report.scores import ModelScores


def model(name, label, p, threshold=0.5):
    ids = np.array([f"s{i}" for i in range(label.size)], dtype=object)
    return ModelScores(name, f"{name}.tsv", ids, p, (p >= threshold).astype(np.int8), label.astype(np.int8), "call column")


def data(n=300, sep=1.0, seed=0, digits=None):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + sep * (2 * label - 1))))
    return label, (np.round(p, digits) if digits else p)


def test_point_metrics_on_a_hand_example():
    label = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    call = (p >= 0.5).astype(int)
    m = point_metrics(label, p, call)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["pr_auc"] == pytest.approx(average_precision_score(label, p)) == pytest.approx(5 / 6)
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (1, 0, 2, 1)
    assert m["precision"] == 1.0 and m["recall"] == 0.5 and m["accuracy"] == 0.75
    assert m["best_f1"] == pytest.approx(0.8) and m["best_f1_threshold"] == pytest.approx(0.35)


def test_point_metrics_match_sklearn():
    label, p = data(digits=2)
    call = (p >= 0.4).astype(int)
    m = point_metrics(label, p, call)
    assert m["pr_auc"] == pytest.approx(average_precision_score(label, p))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(label, p))
    assert m["f1"] == pytest.approx(f1_score(label, call))
    assert m["mcc"] == pytest.approx(matthews_corrcoef(label, call))
    precision, recall, thresholds = precision_recall_curve(label, p)
    f1 = [2 * a * b / (a + b) if a + b else 0 for a, b in zip(precision[:-1], recall[:-1])]
    assert best_f1(label, p) == (pytest.approx(max(f1)), pytest.approx(thresholds[int(np.argmax(f1))]))


def test_expected_calibration_error_matches_a_plain_loop():
    label, p = data(seed=3)
    edges = np.linspace(0, 1, 11)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if inside.any():
            ece += inside.mean() * abs(label[inside].mean() - p[inside].mean())
    assert expected_calibration_error(label, p) == pytest.approx(ece)
    prob_true, _ = calibration_curve(label, p, n_bins=10)
    assert len(prob_true) <= 10


@pytest.mark.parametrize("digits", [None, 1])  # without and with many tied scores
def test_weighted_metrics_equal_sklearn_with_sample_weight(digits):
    label, p = data(n=200, seed=4, digits=digits)
    call = (p >= 0.5).astype(int)
    weights = next(resample_weights(label.size, 6, seed=9))
    got = WeightedMetrics(label, p, call)(weights)
    for i, w in enumerate(weights):
        assert got["pr_auc"][i] == pytest.approx(average_precision_score(label, p, sample_weight=w))
        assert got["roc_auc"][i] == pytest.approx(roc_auc_score(label, p, sample_weight=w))
        assert got["mcc"][i] == pytest.approx(matthews_corrcoef(label, call, sample_weight=w))
        assert got["f1"][i] == pytest.approx(f1_score(label, call, sample_weight=w))
        precision, recall, _ = precision_recall_curve(label, p, sample_weight=w)
        denom = np.where(precision + recall > 0, precision + recall, 1)
        assert got["best_f1"][i] == pytest.approx(np.max(2 * precision * recall / denom))


def test_resample_weights_are_seeded_and_sum_to_n():
    a = np.vstack(list(resample_weights(50, 30, seed=1)))
    b = np.vstack(list(resample_weights(50, 30, seed=1)))
    assert a.shape == (30, 50) and np.array_equal(a, b)
    assert np.all(a.sum(axis=1) == 50)


def test_confidence_intervals_contain_the_point_estimate():
    label, p = data(n=400, seed=5)
    m = model("A", label, p)
    result = evaluate([m], n_boot=300, seed=1, floor=None)
    metrics = result["models"]["A"]
    for key, (low, high) in metrics["ci95"].items():
        assert low <= metrics[key] <= high, key
        assert high - low < 0.3


def test_paired_test_detects_a_better_model_and_not_an_identical_one():
    label, good = data(n=400, sep=1.5, seed=6)
    _, weak = data(n=400, sep=0.3, seed=7)
    weak = np.where(np.random.default_rng(8).random(400) < 0.5, weak, 1 - weak)  # scrambled: near chance
    models = [model("good", label, good), model("weak", label, weak), model("same", label, good)]
    boot = bootstrap_distributions(models, 400, seed=2)
    better = paired_difference(boot["good"]["pr_auc"], boot["weak"]["pr_auc"])
    assert better["ci_low"] > 0 and better["p_value"] < 0.01
    same = paired_difference(boot["good"]["roc_auc"], boot["same"]["roc_auc"])
    assert same["ci_low"] == same["ci_high"] == 0 and same["p_value"] == 1.0
    assert percentile_ci(np.array([np.nan, np.nan])) != percentile_ci(np.array([0.5]))


def test_floor_flags_a_model_that_does_not_beat_it():
    label, good = data(n=300, sep=1.5, seed=10)
    _, weak = data(n=300, sep=0.2, seed=11)
    result = evaluate([model("CNN", label, weak), model("kmer", label, good)], n_boot=100, seed=1, floor="kmer")
    assert result["models"]["CNN"]["floor_status"] == "does not beat k-mer floor"
    assert result["models"]["kmer"]["floor_status"] == "k-mer floor"
    assert result["comparisons"][0]["model"] == "CNN" and result["comparisons"][0]["versus"] == "kmer"


def test_find_floor():
    assert find_floor(["CNN", "K-mer_baseline"], None) == "K-mer_baseline"
    assert find_floor(["CNN", "DNABERT2"], None) is None
    assert find_floor(["CNN", "base"], "base") == "base"
    with pytest.raises(UserError):
        find_floor(["CNN"], "kmer")
    with pytest.raises(UserError):
        find_floor(["kmer3", "kmer6"], None)
