"""explain-regions' ISM: every substitution scored through the model's own scorer, with the
same numbers as scoring each mutant with score-regions' predictor one by one:
delta = logit(p_mutant) - logit(p_region)."""

import random

import numpy as np
import pytest
from score_helpers import make_cnn_dir, make_dnabert2_dir, random_seq

from enhancer_tools.interpret.ism import ism, mutants
from enhancer_tools.models.registry import load_model
from enhancer_tools.scoring.predict import Predictor
from enhancer_tools.scoring.sources import ScoreRecord


def _logit(p):
    return np.log(p) - np.log1p(-p)


def test_mutants_skip_the_identity_edit_and_mutate_n_to_all_four():
    seqs, base, pos = mutants("ACNT", 1, 3)
    assert seqs == ["AANT", "AGNT", "ATNT", "ACAT", "ACCT", "ACGT", "ACTT"]
    assert base.tolist() == [0, 2, 3, 0, 1, 2, 3] and pos.tolist() == [0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("kind,rc_share", [("cnn", False), ("cnn", True), ("dnabert2", None)])
def test_ism_equals_scoring_each_mutant_one_by_one(tmp_path, kind, rc_share):
    if kind == "cnn":
        model_dir = make_cnn_dir(tmp_path / "m", width=40, rc_share=rc_share)
    else:
        model_dir = make_dnabert2_dir(tmp_path / "m", width=30)
    model = load_model(model_dir)
    seq = random_seq(random.Random(4), 40)
    delta = ism(model, seq, 5, 17, rc_average=True, batch_size=7)
    predictor = Predictor(model, batch_size=1, rc_average=True)

    def p_of(s):
        (batch,) = list(predictor.score([ScoreRecord("x", s)]))
        return float(batch.p[0])

    ref = _logit(p_of(seq))
    for col in range(12):
        pos = 5 + col
        for b, base in enumerate("ACGT"):
            expected = 0.0 if base == seq[pos] else _logit(p_of(seq[:pos] + base + seq[pos + 1:])) - ref
            assert delta[b, col] == pytest.approx(expected, abs=1e-5)
    assert np.count_nonzero(delta) > 0
