"""DNABERT-2 attributions: each token's integrated gradient is spread evenly over its bases, so
the bases of a token sum to the token's attribution."""

import random

import numpy as np
import pytest
from score_helpers import make_dnabert2_dir, random_seq

from enhancer_tools.models.registry import load_model
from enhancer_tools.tokenize.offsets import spread_to_bases


def test_spread_divides_each_token_over_its_bases():
    out = spread_to_bases(np.array([3.0, -1.0, 2.0]), [(0, 3), (3, 4), (4, 8)], 10)
    np.testing.assert_allclose(out, [1, 1, 1, -1, 0.5, 0.5, 0.5, 0.5, 0, 0])
    assert out[0:3].sum() == pytest.approx(3.0) and out[4:8].sum() == pytest.approx(2.0)


def test_token_attributions_spread_back_to_bases_sum_per_token(tmp_path):
    model = load_model(make_dnabert2_dir(tmp_path / "m", width=50))
    seqs = [random_seq(random.Random(1), 50), random_seq(random.Random(2), 37) + "N" + random_seq(random.Random(3), 12)]
    for seq, att in zip(seqs, model.scorer.integrated_gradients(seqs, steps=8)):
        assert att.values.shape == (4, len(seq))
        assert att.token_offsets[0][0] == 0 and att.token_offsets[-1][1] == len(seq)
        per_base = att.values.sum(axis=0)
        for value, (start, end) in zip(att.token_values, att.token_offsets):
            assert per_base[start:end].sum() == pytest.approx(value, abs=1e-12)
            assert np.allclose(per_base[start:end], value / (end - start))
        assert np.abs(att.token_values).sum() > 0
