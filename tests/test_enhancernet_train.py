"""enhancernet-train: trains, writes the model directory and the metrics JSON; rejects bad input."""

import json
import os

import pytest
import torch
from click.testing import CliRunner
from synthetic_labelled import make_split, write_fasta

from enhancer_tools.cli.enhancernet_train import main
from enhancer_tools.models.registry import load_model

FAST = ["--epochs", "1", "--batch-size", "32", "--threads", "1", "--quiet"]


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_trains_and_writes_everything(tmp_path):
    train, val = make_split(tmp_path, n_train=96, n_val=48, length=80)
    out, metrics = tmp_path / "model", tmp_path / "metrics.json"
    result = _run("--train", train, "--val", val, "-o", out, "--json", metrics, *FAST)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == ["calibration.json", "config.json", "model.json", "model.safetensors", "provenance.json"]
    data = json.loads(metrics.read_text())
    assert {"roc_auc", "pr_auc", "best_f1", "threshold", "loss"} <= set(data["validation"])
    assert data["epochs"] and data["epochs"][0]["epoch"] == 1.0
    assert data["throughput_seqs_per_s"] > 0 and data["peak_gpu_memory_mib"] is None
    assert data["optuna"] is None and data["hyperparameters"]["width_bp"] == 80
    assert data["counts"]["train_sequences"] == 96
    cal = json.loads((out / "calibration.json").read_text())
    assert cal["threshold"] == pytest.approx(data["validation"]["threshold"])
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["training_data"]["train"]["sha256"]) == 64
    model = load_model(out)
    assert model.kind == "enhancernet" and model.window == {"width": 80}
    assert model.logits(["ACGT" * 20, "N" * 10]).shape == (2,)
    assert not os.path.exists(str(out) + ".work")


def test_width_option_crops_and_pads(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=100)
    result = _run("--train", train, "--val", val, "-o", tmp_path / "m", "--width", 64, *FAST)
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "m").window == {"width": 64}


def test_non_binary_labels(tmp_path):
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=80)
    bad = write_fasta(tmp_path / "bad.fa", [("a", 1, "ACGT" * 20), ("b", "strong", "ACGT" * 20)])
    result = _run("--train", bad, "--val", val, "-o", tmp_path / "m", *FAST)
    assert result.exit_code == 2
    assert "bad.fa:3: record 'b' has label 'strong'" in result.output
    assert not os.path.exists(tmp_path / "m")


def test_one_class_and_empty_files(tmp_path):
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=80)
    one = write_fasta(tmp_path / "one.fa", [("a", 1, "ACGT" * 20), ("b", 1, "ACGA" * 20)])
    result = _run("--train", train, "--val", one, "-o", tmp_path / "m", *FAST)
    assert result.exit_code == 2 and "only label 1" in result.output
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    result = _run("--train", empty, "--val", val, "-o", tmp_path / "m", *FAST)
    assert result.exit_code == 2 and "empty" in result.output


def test_validation_must_be_held_out(tmp_path):
    train, _ = make_split(tmp_path, n_train=32, n_val=16, length=80)
    result = _run("--train", train, "--val", train, "-o", tmp_path / "m", *FAST)
    assert result.exit_code == 2 and "validation file is the training file" in result.output


def test_shared_sequences_warn(tmp_path, caplog):
    train, _ = make_split(tmp_path, n_train=64, n_val=16, length=80)
    copy = tmp_path / "copy.fa"
    copy.write_text(train.read_text())
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(copy), "-o", str(tmp_path / "m"),
                                       "--epochs", "1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "64 validation sequence(s) also occur in the training file" in result.output


def test_bad_device_and_width(tmp_path):
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=80)
    result = _run("--train", train, "--val", val, "-o", tmp_path / "m", "--device", "tpu", *FAST)
    assert result.exit_code == 2 and "tpu" in result.output
    if not torch.cuda.is_available():
        result = _run("--train", train, "--val", val, "-o", tmp_path / "m", "--device", "cuda", *FAST)
        assert result.exit_code == 2 and "no CUDA device" in result.output
    result = _run("--train", train, "--val", val, "-o", tmp_path / "m", "--width", 40, *FAST)
    assert result.exit_code == 2 and "too short" in result.output


def test_refuses_to_overwrite_input(tmp_path):
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=80)
    result = _run("--train", train, "--val", val, "-o", train, *FAST)
    assert result.exit_code == 2 and "overwrite" in result.output
