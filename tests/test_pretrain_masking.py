"""BERT masking of dnabert2-pretrain: 15% of the ordinary tokens chosen, of those 80% [MASK], 10% a
random ordinary token, 10% unchanged; special tokens never chosen; labels -100 elsewhere."""

import pytest
import torch
from dnabert2_finetune_helpers import FIXTURES

from enhancer_tools.tokenize.encode import load_tokenizer
from enhancer_tools.training.mlm_corpus import (
    IGNORE_INDEX,
    MaskingRule,
    masking_rule,
    pad_batch,
)

UNK, CLS, SEP, PAD, MASK = 0, 1, 2, 3, 4
RULE = MaskingRule(mask_id=MASK, special_ids=(UNK, CLS, SEP, PAD, MASK), vocab_size=64, prob=0.15)


def _batch(rows=400, length=250, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 64, (rows, length), generator=g)
    ids[:, 0] = CLS
    lengths = torch.randint(length // 2, length, (rows,), generator=g)
    for r, n in enumerate(lengths.tolist()):
        ids[r, n - 1] = SEP
        ids[r, n:] = PAD
    ids[::7, 10] = UNK  # an N in the sequence
    return ids


def test_masking_statistics_and_special_tokens():
    ids = _batch()
    inputs, labels = RULE.apply(ids, torch.Generator().manual_seed(1))
    special = torch.isin(ids, torch.tensor(RULE.special_ids))
    chosen = labels != IGNORE_INDEX
    assert not (chosen & special).any(), "a special token was chosen"
    assert torch.equal(inputs[special], ids[special]), "a special token was changed"
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen]), "only chosen tokens may change"
    share = chosen.sum().item() / (~special).sum().item()
    assert share == pytest.approx(0.15, abs=0.01)
    n = chosen.sum().item()
    to_mask = (inputs[chosen] == MASK).sum().item() / n
    kept = (inputs[chosen] == ids[chosen]).sum().item() / n
    replaced = 1 - to_mask - kept
    assert to_mask == pytest.approx(0.8, abs=0.02)
    # a random replacement equals the original token 1 time in 59: "kept" includes those
    assert kept == pytest.approx(0.1 + 0.1 / 59, abs=0.015)
    assert replaced == pytest.approx(0.1 - 0.1 / 59, abs=0.015)
    randoms = inputs[chosen & (inputs != MASK) & (inputs != ids)]
    assert not torch.isin(randoms, torch.tensor(RULE.special_ids)).any(), "random replacements are ordinary tokens"


def test_masking_is_seeded():
    ids = _batch(rows=20)
    a = RULE.apply(ids, torch.Generator().manual_seed(5))
    b = RULE.apply(ids, torch.Generator().manual_seed(5))
    c = RULE.apply(ids, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_pad_batch_right_pads_with_the_pad_id():
    ids, attention = pad_batch([[CLS, 7, SEP], [CLS, SEP]], PAD)
    assert ids.tolist() == [[CLS, 7, SEP], [CLS, SEP, PAD]]
    assert attention.tolist() == [[1, 1, 1], [1, 1, 0]]


@pytest.mark.skipif(not (FIXTURES / "tokenizer.json").is_file(), reason="DNABERT-2 fixture absent")
def test_rule_of_the_real_tokenizer_protects_its_special_tokens():
    rule = masking_rule(load_tokenizer(FIXTURES / "tokenizer.json"), 4096, 0.15)
    assert rule.mask_id == MASK
    assert set(rule.special_ids) == {UNK, CLS, SEP, PAD, MASK}
