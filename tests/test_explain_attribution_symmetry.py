"""With RC averaging on, the attributions of a sequence and of its reverse complement agree once
flipped (positions reversed, A<->T, C<->G), for ISM and integrated gradients, CNN and DNABERT-2."""

import random

import numpy as np
import pytest
from score_helpers import make_cnn_dir, make_dnabert2_dir, random_seq

from enhancer_tools.interpret.gradients import flip, integrated_gradients
from enhancer_tools.interpret.ism import ism
from enhancer_tools.models.registry import load_model
from enhancer_tools.seq import reverse_complement


@pytest.fixture(params=["cnn", "cnn_rc_share", "dnabert2"])
def model(request, tmp_path):
    if request.param.startswith("cnn"):
        return load_model(make_cnn_dir(tmp_path / "m", width=48, rc_share=request.param == "cnn_rc_share"))
    return load_model(make_dnabert2_dir(tmp_path / "m", width=40))


def test_integrated_gradients_of_a_sequence_and_its_reverse_complement_agree(model):
    seq = random_seq(random.Random(2), 48)
    (fwd,), _ = integrated_gradients(model, [seq], rc_average=True, steps=8)
    (rev,), _ = integrated_gradients(model, [reverse_complement(seq)], rc_average=True, steps=8)
    assert fwd.shape == (4, 48)
    np.testing.assert_allclose(flip(rev), fwd, atol=1e-7, rtol=1e-5)
    assert np.abs(fwd).sum() > 0


def test_ism_of_a_sequence_and_its_reverse_complement_agree(model):
    seq = random_seq(random.Random(3), 48)
    np.testing.assert_allclose(flip(ism(model, reverse_complement(seq))), ism(model, seq), atol=1e-7, rtol=1e-5)


def test_attributions_sit_on_the_observed_base(model):
    seq = random_seq(random.Random(5), 48)
    (values,), _ = integrated_gradients(model, [seq], rc_average=False, steps=4)
    observed = np.array(["ACGT".index(b) for b in seq])
    mask = np.ones_like(values, dtype=bool)
    mask[observed, np.arange(len(seq))] = False
    assert np.all(values[mask] == 0)


def test_cnn_integrated_gradients_sum_to_the_log_odds_gap(tmp_path):
    """Completeness: with a zero baseline the attributions sum to z(x) - z(0) (over T)."""
    import torch

    model = load_model(make_cnn_dir(tmp_path / "c", width=48))
    seq = random_seq(random.Random(6), 48)
    (values,), _ = integrated_gradients(model, [seq], rc_average=False, steps=256)
    with torch.no_grad():
        z0 = float(model.scorer.model.eval()(x=torch.zeros(1, 4, 48))[0])
    gap = (model.logits([seq])[0] - z0) / model.calibration.temperature
    assert values.sum() == pytest.approx(gap, rel=2e-2, abs=1e-4)
