"""With reverse-complement averaging, a sequence and its reverse complement get the same score."""

import numpy as np
import pytest
from score_helpers import make_cnn_dir, make_dnabert2_dir, random_records, read_tsv, run_cli, write_fasta

from enhancer_tools.seq import reverse_complement


@pytest.fixture(scope="module", params=["cnn", "dnabert2"])
def model_dir(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "cnn":
        return make_cnn_dir(root / "m", width=80)  # rc_share off: the model alone is not symmetric
    return make_dnabert2_dir(root / "m")


def _scores(model_dir, records, rc_average=True, batch_size=4):
    from enhancer_tools.models.registry import load_model
    from enhancer_tools.scoring.predict import Predictor
    from enhancer_tools.scoring.sources import ScoreRecord

    predictor = Predictor(load_model(model_dir), batch_size=batch_size, rc_average=rc_average)
    batches = list(predictor.score(ScoreRecord(i, s) for i, _, s in records))
    cat = {k: np.concatenate([getattr(b, k) for b in batches]) for k in ("p_forward", "p", "call")}
    cat["p_reverse"] = np.concatenate([b.p_reverse for b in batches]) if rc_average else None
    return cat


def test_reverse_complement_scores_equal(model_dir):
    # Odd lengths, shorter/longer than the CNN width, lowercase and N included.
    records = random_records(12, 77) + [("odd", 0, "ACGTNacgtTTGCA" * 5 + "G"), ("long", 1, "ACGGT" * 30)]
    rc = [(i, lab, reverse_complement(s)) for i, lab, s in records]
    fwd, rev = _scores(model_dir, records, batch_size=5), _scores(model_dir, rc, batch_size=3)
    np.testing.assert_allclose(fwd["p"], rev["p"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fwd["p_forward"], rev["p_reverse"], rtol=0, atol=1e-6)
    assert (fwd["call"] == rev["call"]).all()
    assert np.abs(fwd["p_forward"] - fwd["p_reverse"]).max() > 1e-6  # the strands differ; averaging fixes it


def test_without_averaging_forward_strand_only(model_dir):
    records = random_records(6, 77)
    avg, fwd = _scores(model_dir, records), _scores(model_dir, records, rc_average=False)
    assert fwd["p_reverse"] is None
    np.testing.assert_allclose(fwd["p"], fwd["p_forward"], rtol=0, atol=0)
    np.testing.assert_allclose(fwd["p_forward"], avg["p_forward"], rtol=0, atol=1e-6)


def test_cli_rc_symmetry(model_dir, tmp_path):
    records = random_records(8, 77)
    fa = write_fasta(tmp_path / "f.fa", records)
    fa_rc = write_fasta(tmp_path / "r.fa", [(i, lab, reverse_complement(s)) for i, lab, s in records])
    assert run_cli(["--model", model_dir, "--fasta", fa, "-o", tmp_path / "f.tsv"]).exit_code == 0
    assert run_cli(["--model", model_dir, "--fasta", fa_rc, "-o", tmp_path / "r.tsv"]).exit_code == 0
    f, r = read_tsv(tmp_path / "f.tsv")[1], read_tsv(tmp_path / "r.tsv")[1]
    assert [abs(float(a[6]) - float(b[6])) < 1e-6 for a, b in zip(f, r)] == [True] * len(f)
