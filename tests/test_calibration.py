"""Temperature and threshold are fitted on validation log-odds."""

import numpy as np
import pytest

from enhancer_tools.metrics.calibration import Calibration, calibrate, fit_temperature
from enhancer_tools.metrics.binary import best_f1_threshold, sigmoid


def _overconfident(n=4000, temperature=2.5, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, n)  # a model's log-odds
    y = (rng.random(n) < sigmoid(z / temperature)).astype(int)  # true probability is sigmoid(z / T)
    return z, y


def test_temperature_recovers_the_true_scale():
    z, y = _overconfident()
    assert fit_temperature(z, y) == pytest.approx(2.5, rel=0.1)


def test_well_calibrated_scores_keep_temperature_near_one():
    z, y = _overconfident(temperature=1.0, seed=1)
    assert fit_temperature(z, y) == pytest.approx(1.0, rel=0.1)


def test_threshold_is_best_f1_on_calibrated_probability():
    z, y = _overconfident()
    cal = calibrate(z, y)
    assert cal.chosen_on == "validation"
    p = cal.probability(z)
    f1_cal, _ = best_f1_threshold(y, p)
    f1_raw, t_raw = best_f1_threshold(y, z)
    assert f1_cal == pytest.approx(f1_raw)
    # same calls as the best-F1 cut on raw scores: temperature scaling keeps the order
    assert np.array_equal(p >= cal.threshold, z >= t_raw)


def test_one_class_gives_identity_temperature():
    assert fit_temperature([1.0, 2.0], [1, 1]) == 1.0


def test_as_dict_keys():
    assert set(Calibration().as_dict()) == {"temperature", "threshold", "chosen_on"}
