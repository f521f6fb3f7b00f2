"""The trainer as a GPU wants it: no host sync in a micro-batch (the loss sums on the device and is
read at validation), one DataLoader for the whole run (workers kept), validation under the
training precision, and the same numbers as before."""

import numpy as np
import pytest
import torch
from score_helpers import train_tokenizer
from synthetic_labelled import make_records

from enhancer_tools.models.hyperparameters import TrainingSettings
from enhancer_tools.training.data import LabelledSet
from enhancer_tools.training.trainer import Trainer


def labelled(n, seed):
    recs = make_records(n, 80, seed)
    return LabelledSet("-", [r[0] for r in recs], [r[2] for r in recs], np.array([r[1] for r in recs]))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return train_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def make_trainer(tokenizer, **settings):
    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification
    from enhancer_tools.models.token_adapter import TokenAdapter

    torch.manual_seed(0)
    adapter = TokenAdapter(tokenizer, 64)
    model = DNABERT2ForSequenceClassification(DNABERT2Config.tiny(vocab_size=adapter.tokenizer.get_vocab_size()))
    values = dict(epochs=2, batch_size=8, learning_rate=1e-3, grad_accum=2, patience=5) | settings
    return Trainer(model, adapter, labelled(40, 1), labelled(24, 2), TrainingSettings(**values), seed=3)


def test_a_micro_batch_reads_nothing_back(tokenizer, monkeypatch):
    trainer = make_trainer(tokenizer)
    trainer.model.set_unpad_tokens(False)  # what a GPU runs (the CPU default asks the mask on the host)
    dataset = trainer._data_loader().dataset
    inputs, y = dataset[(0, 0)]

    def refuse(*args, **kwargs):
        raise AssertionError("host sync in a training micro-batch")

    with monkeypatch.context() as patch:
        for name in ("__bool__", "item", "__float__", "tolist"):
            patch.setattr(torch.Tensor, name, refuse)
        assert trainer.step({"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}, y,
                            n_batches=5) is False  # first of a group of two: no optimizer step
    assert trainer.state.loss_sum == 0.0 and trainer.state.loss_count == len(y)
    trainer._read_loss()
    assert trainer.state.loss_sum > 0


def test_training_loss_and_validation_match_the_host_side_sum(tokenizer):
    trainer = make_trainer(tokenizer, epochs=1)
    losses = []
    original = torch.nn.functional.binary_cross_entropy_with_logits

    def spy(*args, **kwargs):
        loss = original(*args, **kwargs)
        losses.append((float(loss.detach()), len(args[1])))
        return loss

    torch.nn.functional.binary_cross_entropy_with_logits = spy
    try:
        result = trainer.run()
    finally:
        torch.nn.functional.binary_cross_entropy_with_logits = original
    total = 0.0
    for value, n in losses:
        total += value * n  # the old per-step host-side sum
    assert result.log[0]["train_loss"] == total / sum(n for _, n in losses)


def test_one_data_loader_serves_every_epoch(tokenizer):
    trainer = make_trainer(tokenizer, epochs=2, num_workers=1)
    loaders = []
    original = trainer._run_epoch

    def record():
        original()
        loaders.append(trainer._loader)

    trainer._run_epoch = record
    with_workers = trainer.run()
    assert len(loaders) == 2 and loaders[0] is loaders[1] and loaders[0].persistent_workers
    without = make_trainer(tokenizer, epochs=2).run()
    assert [e["train_loss"] for e in with_workers.log] == [e["train_loss"] for e in without.log]
    np.testing.assert_array_equal(with_workers.val_logodds, without.val_logodds)


def test_validation_runs_under_the_training_precision(tokenizer):
    assert make_trainer(tokenizer, precision="bf16").scorer.precision == "bf16"
    assert make_trainer(tokenizer).scorer.precision == "auto"
