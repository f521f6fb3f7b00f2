"""dnabert2-finetune on CPU with a tiny model: the model directory, the metrics JSON, scoring the
output with score-regions, and the one-line errors for a wrong start or tokenizer."""

import json

import pytest
import torch
from click.testing import CliRunner
from dnabert2_finetune_helpers import finetune, make_tokenizer
from synthetic_labelled import make_split

from enhancer_tools.cli.score_regions import main as score_regions
from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForSequenceClassification,
)
from enhancer_tools.models.registry import load_model


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=100)
    return train, val, make_tokenizer(train, tmp_path / "tok.json")


def test_tiny_from_scratch_writes_a_scorable_model_dir(tmp_path, data):
    train, val, tok = data
    out = tmp_path / "m"
    result = finetune("--train", train, "--val", val, "--init", "tiny", "--tokenizer", tok, "-o", out,
                      "--max-length", 40, "--epochs", 1, "--batch-size", 16, "--threads", 1, "--quiet",
                      "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "model.json").read_text())
    assert info["kind"] == "dnabert2" and info["max_tokens"] == 40 and info["window"] == {"width": 100}
    assert (out / "tokenizer.json").read_text() == tok.read_text()
    assert json.loads((out / "config.json").read_text())["vocab_size"] == 64
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert set(metrics["validation"]) >= {"roc_auc", "pr_auc", "best_f1", "threshold", "loss"}
    assert len(metrics["epochs"]) == 1 and metrics["optuna"] is None
    assert metrics["throughput_seqs_per_s"] > 0 and metrics["peak_gpu_memory_mib"] is None
    hp = metrics["hyperparameters"]  # the from-scratch defaults
    assert (hp["learning_rate"], hp["pooling"], hp["scheduler"], hp["rc_augment"]) == (3e-4, "mean", "cosine", True)
    assert json.loads((out / "config.json").read_text())["classifier_pooling"] == "mean"
    assert not (tmp_path / "m.work").exists()

    loaded = load_model(out)
    assert loaded.kind == "dnabert2" and loaded.max_tokens == 40
    scores = tmp_path / "scores.tsv"
    result = CliRunner().invoke(score_regions, ["--model", str(out), "--fasta", str(val), "-o", str(scores),
                                                "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    lines = scores.read_text().splitlines()
    assert lines[0].split("\t")[:8] == ["id", "chrom", "start", "end", "p_forward", "p_reverse", "p", "call"]
    assert len(lines) == 33


def test_truncation_is_warned(tmp_path, data, caplog):
    train, val, tok = data
    result = finetune("--train", train, "--val", val, "--init", "tiny", "--tokenizer", tok, "-o", tmp_path / "m",
                      "--max-length", 8, "--epochs", 1, "--threads", 1)
    assert result.exit_code == 0, result.output
    assert "--max-length 8 truncates 64 of 64 sequences" in result.output


def _checkpoint(tmp_path, tok) -> str:
    torch.manual_seed(0)
    model = DNABERT2ForSequenceClassification(DNABERT2Config.tiny(vocab_size=64))
    model.save_pretrained(tmp_path / "ckpt", tokenizer_json=tok)
    return str(tmp_path / "ckpt")


def test_mismatched_tokenizer_with_a_checkpoint_is_one_line(tmp_path, data):
    train, val, tok = data
    ckpt = _checkpoint(tmp_path, tok)
    other = make_tokenizer(val, tmp_path / "other.json", vocab_size=60)
    result = finetune("--train", train, "--val", val, "--model", ckpt, "--tokenizer", other, "-o", tmp_path / "m")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "vocabulary differs from the checkpoint's" in lines[0], result.output
    assert not (tmp_path / "m").exists()


def test_checkpoint_tokenizer_is_the_default(tmp_path, data):
    train, val, tok = data
    ckpt = _checkpoint(tmp_path, tok)
    result = finetune("--train", train, "--val", val, "--model", ckpt, "-o", tmp_path / "m", "--max-length", 40,
                      "--epochs", 1, "--threads", 1, "--quiet", "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["hyperparameters"]["learning_rate"] == 3e-5  # the fine-tuning default
    assert metrics["hyperparameters"]["model"] == ckpt


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of --model"),
    (["--init", "tiny", "--model", "."], "exactly one of --model"),
    (["--init", "huge"], "neither 'tiny' nor an existing config.json"),
])
def test_bad_starts_are_one_line(tmp_path, data, args, message):
    train, val, tok = data
    result = finetune("--train", train, "--val", val, "-o", tmp_path / "m", "--tokenizer", tok, *args)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert message in result.output


def test_config_json_takes_the_tokenizers_vocab_size(tmp_path, data):
    train, val, tok = data
    config = tmp_path / "config.json"
    config.write_text(json.dumps(DNABERT2Config.tiny(vocab_size=8).to_dict()))
    result = finetune("--train", train, "--val", val, "-o", tmp_path / "m", "--init", config, "--tokenizer", tok,
                      "--epochs", 1, "--max-length", 40, "--threads", 1, "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "config.json").read_text())["vocab_size"] == 64


def test_bad_config_json_names_the_file(tmp_path, data):
    train, val, tok = data
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"hidden_size": 64}))
    result = finetune("--train", train, "--val", val, "-o", tmp_path / "m", "--init", config, "--tokenizer", tok)
    assert result.exit_code == 2 and "config.json" in result.output and "missing key" in result.output, result.output
