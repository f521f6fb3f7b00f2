"""EnhancerNet's receptive-field ISM shortcut gives the numbers of scoring every mutant in full."""

import dataclasses

import numpy as np
import pytest
import torch

from enhancer_tools.interpret.ism import ism
from enhancer_tools.metrics.calibration import Calibration
from enhancer_tools.models.enhancernet import (
    EnhancerNetConfig,
    OneHotAdapter,
    build,
)
from enhancer_tools.models.enhancernet_ism import EnhancerNetScorer
from enhancer_tools.models.registry import LoadedModel
from enhancer_tools.models.scorer import TorchScorer


def _model(width=200, rc_share=True, channels=(8, 12, 16), kernels=(15, 9, 5), pool=4, seed=0,
           replicates=1) -> LoadedModel:
    torch.manual_seed(seed)
    cfg = EnhancerNetConfig(width=width, channels=list(channels), kernel_sizes=list(kernels), pool=pool, dense=16,
                            rc_share=rc_share, replicates=replicates)
    net = build(cfg)
    with torch.no_grad():  # larger weights (effects well above rounding); BatchNorm away from the identity
        for m in net.modules():
            if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear)):
                m.weight.mul_(4.0)
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    scorer = EnhancerNetScorer(net, OneHotAdapter(width))
    return LoadedModel(kind="enhancernet", path="", info={}, config=cfg.as_dict(),
                       calibration=Calibration(temperature=1.7), window={"width": width}, max_tokens=None, scorer=scorer)


def _full(model: LoadedModel) -> LoadedModel:
    """The same model without the shortcut: every mutant scored as a whole sequence."""
    return dataclasses.replace(model, scorer=TorchScorer(model.scorer.model, model.scorer.adapter))


def _seq(n: int, seed: int = 1) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


@pytest.mark.parametrize("rc_share", [True, False])
@pytest.mark.parametrize("rc_average", [True, False])
def test_shortcut_equals_scoring_every_mutant(rc_share, rc_average):
    model = _model(rc_share=rc_share)
    seq = _seq(200)
    fast = ism(model, seq, rc_average=rc_average)
    full = ism(_full(model), seq, rc_average=rc_average)
    assert np.abs(full).max() > 0.1  # the model is not flat, so the comparison means something
    np.testing.assert_allclose(fast, full, atol=5e-5)  # float32 rounding; a wrong window errs by ~0.01+
    assert (fast[[ "ACGT".index(c) for c in seq], np.arange(200)] == 0).all()


def test_shortcut_averages_replicates_as_their_forward_does():
    model = _model(replicates=3)
    seq = _seq(200, seed=4)
    fast = ism(model, seq)
    full = ism(_full(model), seq)
    assert np.abs(full).max() > 0.1
    np.testing.assert_allclose(fast, full, atol=5e-5)


@pytest.mark.parametrize("length, start, end", [(260, 0, 260), (150, 10, 140), (200, 0, 7), (200, 193, 200)])
def test_cropped_padded_sliced_and_edge_positions(length, start, end):
    """Longer sequences are centre-cropped (bases outside the window: no effect), shorter ones
    centre-padded; slices and the first and last positions (zero padding) agree too."""
    model = _model(width=200, channels=(6, 8, 10), kernels=(7, 5, 3), pool=3, seed=3)
    seq = _seq(length, seed=4)
    seq = seq[:20] + "N" + seq[21:40] + "nrY" + seq[43:]  # unknown bases: all four edits; lower case
    fast = ism(model, seq, start, end)
    full = ism(_full(model), seq, start, end)
    assert np.abs(full).max() > 0.1
    np.testing.assert_allclose(fast, full, atol=5e-5)  # float32 rounding; a wrong window errs by ~0.01+


def test_default_architecture_full_window():
    model = _model(width=1000, channels=(64, 96, 128), seed=5)
    seq = _seq(1000, seed=6)
    full = ism(_full(model), seq, 480, 520)
    assert np.abs(full).max() > 0.1
    np.testing.assert_allclose(ism(model, seq, 480, 520), full, atol=5e-5)  # float32 rounding; a wrong window errs by ~0.01+
