"""dnabert2-finetune from the fixture's masked-LM checkpoint with the real DNABERT-2 tokenizer: the
encoder loads, the classification head starts fresh (logged), and the result is a model directory."""

import json

import pytest
import torch
from dnabert2_finetune_helpers import FIXTURES, finetune
from synthetic_labelled import make_split

CHECKPOINT = FIXTURES / "mlm_checkpoint"
TOKENIZER = FIXTURES / "tokenizer.json"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not (CHECKPOINT / "pytorch_model.bin").is_file() or not TOKENIZER.is_file(),
                                 reason=f"DNABERT-2 fixture not found at {FIXTURES}")]


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_masked_lm_checkpoint_gets_a_fresh_head(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=120)
    result = finetune("--train", train, "--val", val, "--model", CHECKPOINT, "--tokenizer", TOKENIZER,
                      "-o", tmp_path / "m", "--max-length", 64, "--epochs", 1, "--threads", 1,
                      "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    assert "has no pooler/classifier weights" in result.output
    out = tmp_path / "m"
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"] and config["vocab_size"] == 4096
    assert (out / "tokenizer.json").read_text() == TOKENIZER.read_text()
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["hyperparameters"]["learning_rate"] == 3e-5 and metrics["validation"]["roc_auc"] is not None


def test_user_bpe_vocabulary_with_the_checkpoint_is_refused(tmp_path):
    from dnabert2_finetune_helpers import make_tokenizer

    train, val = make_split(tmp_path, n_train=16, n_val=8, length=60)
    result = finetune("--train", train, "--val", val, "--model", CHECKPOINT,
                      "--tokenizer", make_tokenizer(train, tmp_path / "bpe.json"), "-o", tmp_path / "m")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "64 tokens but the checkpoint's embeddings hold 4096" in result.output
