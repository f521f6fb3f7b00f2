"""The classifier's pooling (config ``classifier_pooling``): [CLS], the mean over real tokens, or
their average; padding never changes a sequence's logits; the choice survives a save and load,
and a config without the key (the released checkpoints) means [CLS]. And the learning-rate
schedules after warmup: linear to 0, cosine to the floor, constant."""

import json

import pytest
import torch

from enhancer_tools.errors import UserError
from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForSequenceClassification,
)
from enhancer_tools.models.hyperparameters import COSINE_FLOOR
from enhancer_tools.training.trainer import lr_schedule


def tiny_model(pooling, seed=0):
    torch.manual_seed(seed)
    return DNABERT2ForSequenceClassification(DNABERT2Config.tiny(vocab_size=64, classifier_pooling=pooling)).eval()


def test_each_pooling_reads_what_it_says():
    ids = torch.randint(5, 64, (3, 10), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    for pooling in ("cls", "mean", "cls+mean"):
        model = tiny_model(pooling)
        with torch.no_grad():
            last = model.bert(ids, mask).last_hidden_state
            real = mask.unsqueeze(-1).float()
            mean = (last * real).sum(1) / real.sum(1)
            expected = {"cls": last[:, 0], "mean": mean, "cls+mean": (last[:, 0] + mean) / 2}[pooling]
            pooler = model.bert.pooler
            torch.testing.assert_close(model(ids, mask).pooler_output, torch.tanh(pooler.dense(expected)))


@pytest.mark.parametrize("pooling", ["cls", "mean", "cls+mean"])
def test_padding_does_not_change_a_sequence_logits(pooling):
    model = tiny_model(pooling)
    ids = torch.randint(5, 64, (1, 7), generator=torch.Generator().manual_seed(2))
    padded = torch.cat([ids, torch.full((1, 5), 3)], dim=1)
    mask = torch.cat([torch.ones(1, 7, dtype=torch.long), torch.zeros(1, 5, dtype=torch.long)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, model(padded, mask).logits, atol=1e-5, rtol=1e-5)


def test_pooling_is_saved_and_absent_means_cls(tmp_path):
    model = tiny_model("mean")
    model.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["classifier_pooling"] == "mean"
    loaded = DNABERT2ForSequenceClassification.from_pretrained(tmp_path / "m")
    assert loaded.bert.pooler.pooling == "mean"
    ids = torch.randint(5, 64, (2, 9), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, loaded(ids).logits)
    assert "classifier_pooling" not in tiny_model("cls").config.to_dict()  # the released layout, unchanged
    assert DNABERT2Config.from_dict(tiny_model("cls").config.to_dict()).classifier_pooling == "cls"


def test_unknown_pooling_is_a_user_error():
    with pytest.raises(UserError, match="classifier_pooling 'max'"):
        DNABERT2Config.tiny(classifier_pooling="max")


def test_schedules_after_warmup():
    total, warmup = 100, 10
    linear, cosine, constant = (lr_schedule(name, total, warmup) for name in ("linear", "cosine", "constant"))
    for factor in (linear, cosine, constant):
        assert [round(factor(s), 6) for s in (0, 4, 9)] == [round((s + 1) / 11, 6) for s in (0, 4, 9)]
        assert factor(warmup) == pytest.approx(1.0)
    assert linear(55) == pytest.approx(0.5) and linear(total) == 0.0
    assert cosine(55) == pytest.approx(COSINE_FLOOR + (1 - COSINE_FLOOR) / 2)
    assert cosine(total) == pytest.approx(COSINE_FLOOR) and cosine(10 * total) == pytest.approx(COSINE_FLOOR)
    assert all(cosine(s) >= cosine(s + 1) for s in range(warmup, total))
    assert constant(total) == 1.0
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        lr_schedule("step", total, warmup)
