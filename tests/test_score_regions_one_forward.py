"""Scoring as a GPU wants it: both strands in one forward pass, length-bucketed batches with the
outputs back in input order, the output written on a thread (same bytes, same order, writer
errors raised), and the static-shape / --compile path giving the same scores."""

import io

import numpy as np
import pytest
from score_helpers import make_cnn_dir, make_dnabert2_dir, random_records, read_tsv, run_cli, write_fasta

from enhancer_tools.seq import reverse_complement


@pytest.fixture(scope="module", params=["cnn", "dnabert2"])
def model_dir(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    return make_cnn_dir(root / "m", width=80) if request.param == "cnn" else make_dnabert2_dir(root / "m")


def _records(n=13):
    from enhancer_tools.scoring.sources import ScoreRecord

    rng = np.random.default_rng(3)
    return [ScoreRecord(f"r{i}", "".join(rng.choice(list("ACGT"), int(rng.integers(40, 90))))) for i in range(n)]


def test_both_strands_in_one_forward_equal_two_forwards(model_dir):
    from enhancer_tools.models.registry import load_model
    from enhancer_tools.scoring.predict import Predictor

    model = load_model(model_dir)
    records = _records()
    batches = list(Predictor(model, batch_size=5, rc_average=True).score(records))
    z_fwd = np.concatenate([model.scorer.logodds(model.scorer.encode([r.seq for r in b.records])) for b in batches])
    z_rev = np.concatenate([model.scorer.logodds(model.scorer.encode([reverse_complement(r.seq) for r in b.records]))
                            for b in batches])
    t = model.calibration.temperature
    p_forward = np.concatenate([b.p_forward for b in batches])
    p_reverse = np.concatenate([b.p_reverse for b in batches])
    np.testing.assert_allclose(p_forward, 1 / (1 + np.exp(-z_fwd / t)), rtol=0, atol=1e-6)
    np.testing.assert_allclose(p_reverse, 1 / (1 + np.exp(-z_rev / t)), rtol=0, atol=1e-6)
    assert [r.id for b in batches for r in b.records] == [r.id for r in records]


def test_bucketed_logits_keep_input_order_and_values(model_dir):
    from enhancer_tools.models.registry import load_model

    scorer = load_model(model_dir).scorer
    seqs = [r.seq for r in _records(17)]
    one_by_one = np.array([scorer.logits([s], batch_size=1)[0] for s in seqs])
    np.testing.assert_allclose(scorer.logits(seqs, batch_size=4), one_by_one, rtol=1e-5, atol=1e-5)


def test_length_order_sorts_token_items_only():
    from enhancer_tools.models.adapter import length_order

    class Lengths:
        def lengths(self, items):
            return None if items is None else np.array([len(x) for x in items])

    assert length_order(Lengths(), None) is None
    assert length_order(Lengths(), ["aaa", "a", "aa", "a"]).tolist() == [1, 3, 2, 0]


class _Recorder:
    def __init__(self, fail_at=None):
        self.seen, self.fail_at = [], fail_at

    def write(self, batch):
        if len(self.seen) == self.fail_at:
            raise OSError("disk full")
        self.seen.append(batch)


def _batches(n):
    from enhancer_tools.scoring.predict import ScoredBatch

    return [ScoredBatch([i], np.array([0.1]), None, np.array([0.1]), np.array([i % 2 == 0])) for i in range(n)]


def test_background_writing_keeps_order_and_counts():
    from enhancer_tools.scoring.run import write_in_background

    recorders = [_Recorder(), _Recorder()]
    assert write_in_background(iter(_batches(25)), recorders, depth=2) == (25, 13)
    assert all([b.records[0] for b in r.seen] == list(range(25)) for r in recorders)


def test_background_writer_error_is_raised():
    from enhancer_tools.scoring.run import write_in_background

    with pytest.raises(OSError, match="disk full"):
        write_in_background(iter(_batches(50)), [_Recorder(fail_at=3)], depth=2)


def test_background_written_tsv_is_byte_identical(model_dir):
    from enhancer_tools.models.registry import load_model
    from enhancer_tools.scoring.predict import Predictor
    from enhancer_tools.scoring.run import write_in_background
    from enhancer_tools.scoring.writers import ScoresWriter

    batches = list(Predictor(load_model(model_dir), batch_size=4).score(_records()))
    serial, threaded = io.StringIO(), io.StringIO()
    writer = ScoresWriter(serial, False)
    for batch in batches:
        writer.write(batch)
    write_in_background(iter(batches), [ScoresWriter(threaded, False)])
    assert threaded.getvalue() == serial.getvalue()


@pytest.mark.parametrize("option", ["--static-shapes", pytest.param("--compile", marks=pytest.mark.slow)])
def test_static_shapes_and_compile_give_the_same_scores(tmp_path, option):
    model = make_dnabert2_dir(tmp_path / "m")
    fa = write_fasta(tmp_path / "in.fa", random_records(10, 61))
    assert run_cli(["--model", model, "--fasta", fa, "-o", tmp_path / "a.tsv", "--batch-size", 4]).exit_code == 0
    result = run_cli(["--model", model, "--fasta", fa, "-o", tmp_path / "b.tsv", "--batch-size", 4, option])
    assert result.exit_code == 0, result.output
    (_, a), (_, b) = read_tsv(tmp_path / "a.tsv"), read_tsv(tmp_path / "b.tsv")
    assert [r[0] for r in a] == [r[0] for r in b]
    np.testing.assert_allclose([float(r[6]) for r in a], [float(r[6]) for r in b], rtol=0, atol=1e-5)


def test_static_shapes_pad_token_batches_to_multiples_of_8(tmp_path):
    from enhancer_tools.models.registry import load_model
    from enhancer_tools.scoring.run import prepare_static_shapes

    model = load_model(make_dnabert2_dir(tmp_path / "m"))
    prepare_static_shapes(model.scorer, compile_model=False)
    batch = model.scorer.encode(["ACGTTGCA" * 3, "ACG"])
    assert batch["input_ids"].shape[1] % 8 == 0
