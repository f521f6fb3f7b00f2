"""kmer-baseline: canonical k-mer features, C chosen on validation, the shared model-directory layout."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from synthetic_labelled import make_split, write_fasta

from enhancer_tools.cli.kmer_baseline import main
from enhancer_tools.errors import UserError
from enhancer_tools.models.kmer import KmerFeatures, canonical_vocabulary, parse_k
from enhancer_tools.models.registry import load_model
from enhancer_tools.seq import reverse_complement


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_canonical_vocabulary_sizes():
    assert [len(canonical_vocabulary(k)) for k in (1, 2, 3, 6)] == [2, 10, 32, 2080]


def test_features_are_strand_symmetric_frequencies():
    f = KmerFeatures([2, 3])
    seq = "ACGTTGCANNACGGGTAC"
    x, x_rc = f.transform([seq, reverse_complement(seq)])
    assert np.allclose(x, x_rc)
    assert np.allclose(x[:10].sum(), 1.0) and np.allclose(x[10:].sum(), 1.0)
    assert np.allclose(f.transform(["acgt"]), f.transform(["ACGT"]))
    assert f.transform(["NNNN"]).sum() == 0  # no valid k-mer: all zeros, no division by zero


def test_parse_k():
    assert parse_k("3-6") == [3, 4, 5, 6]
    assert parse_k("4,6") == [4, 6]
    for bad in ("x", "0-2", "9", ""):
        with pytest.raises(UserError):
            parse_k(bad)


def test_trains_and_loads(tmp_path):
    train, val = make_split(tmp_path, n_train=200, n_val=100, length=100)
    out, metrics = tmp_path / "m", tmp_path / "m.json"
    result = _run("--train", train, "--val", val, "-o", out, "--k", "3-4", "--json", metrics, "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads(metrics.read_text())
    assert {"roc_auc", "pr_auc", "best_f1", "threshold", "loss"} <= set(data["validation"])
    assert data["validation"]["roc_auc"] > 0.8
    assert len(data["regularisation"]) == 7 and data["hyperparameters"]["k"] == [3, 4]
    info = json.loads((out / "model.json").read_text())
    assert info["kind"] == "kmer" and info["format_version"] == 1
    config = json.loads((out / "config.json").read_text())
    assert config["vocabulary"]["3"] == canonical_vocabulary(3) and len(config["scaler_mean"]) == 32 + 136
    model = load_model(out)
    seqs = [line for line in val.read_text().splitlines() if not line.startswith(">")]
    z = model.logits(seqs)
    labels = [int(line.split("label=")[1]) for line in val.read_text().splitlines() if line.startswith(">")]
    from enhancer_tools.metrics.binary import roc_auc

    assert roc_auc(labels, z) == pytest.approx(data["validation"]["roc_auc"])
    assert model.calibration.threshold == pytest.approx(data["validation"]["threshold"])


def test_bad_inputs(tmp_path):
    train, val = make_split(tmp_path, n_train=40, n_val=20, length=60)
    assert _run("--train", train, "--val", val, "-o", tmp_path / "m", "--k", "12").exit_code == 2
    assert _run("--train", train, "--val", val, "-o", tmp_path / "m", "--c-grid", "0,1").exit_code == 2
    bad = write_fasta(tmp_path / "bad.fa", [("a", 2, "ACGT"), ("b", 0, "ACGT")])
    result = _run("--train", bad, "--val", val, "-o", tmp_path / "m")
    assert result.exit_code == 2 and "binary labels" in result.output
    assert not (tmp_path / "m").exists()


def test_mismatched_config_is_a_clear_error(tmp_path):
    train, val = make_split(tmp_path, n_train=40, n_val=20, length=60)
    assert _run("--train", train, "--val", val, "-o", tmp_path / "m", "--k", "2", "--quiet").exit_code == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["k"] = [3]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="does not match|do not describe"):
        load_model(tmp_path / "m")
