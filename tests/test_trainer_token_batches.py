"""Length-bucketed batches, and the shared trainer driving a token model (tiny DNABERT-2)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from synthetic_labelled import make_records

from enhancer_tools.training.data import LabelledSet
from enhancer_tools.models.hyperparameters import TrainingSettings
from enhancer_tools.training.trainer import epoch_batches, train

TOKENIZER = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"


def test_buckets_reduce_padding_and_cover_every_index():
    lengths = np.random.default_rng(0).integers(5, 200, 1000)
    config = TrainingSettings(batch_size=16, bucket_batches=8)
    batches = epoch_batches(1000, 0, config, 2, lengths)
    seen = np.concatenate([idx for idx, _ in batches])
    assert sorted(seen.tolist()) == list(range(1000))
    padded = sum(len(idx) * lengths[idx].max() for idx, _ in batches)
    plain = sum(len(idx) * lengths[idx].max() for idx, _ in epoch_batches(1000, 0, config, 2, None))
    assert padded < 0.8 * plain
    again = epoch_batches(1000, 0, config, 2, lengths)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again)), "same seed, same order"


@pytest.mark.realdata
@pytest.mark.skipif(not TOKENIZER.is_file(), reason=f"DNABERT-2 tokenizer not found at {TOKENIZER}")
def test_trainer_runs_a_token_model():
    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification
    from enhancer_tools.models.token_adapter import TokenAdapter

    def labelled(seed):
        recs = make_records(48, 80, seed)
        return LabelledSet("-", [r[0] for r in recs], [r[2] for r in recs], np.array([r[1] for r in recs]))

    torch.manual_seed(0)
    model = DNABERT2ForSequenceClassification(DNABERT2Config.tiny())
    result = train(model, TokenAdapter(TOKENIZER, 64), labelled(1), labelled(2),
                   TrainingSettings(epochs=1, batch_size=8, learning_rate=1e-3, rc_augment=True, grad_accum=2))
    assert result.steps == 3 and len(result.log) == 1
    assert result.val_logodds.shape == (48,)
