"""The seeded training sample: uniform, reproducible, in input order, everything when small."""

from collections import Counter

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.tokenize.bpe import reservoir_sample, training_words


def test_same_seed_same_sample_in_input_order():
    items = [f"s{i:04d}" for i in range(1000)]
    first, seen = reservoir_sample(iter(items), 50, seed=11)
    again, _ = reservoir_sample(iter(items), 50, seed=11)
    other, _ = reservoir_sample(iter(items), 50, seed=12)
    assert seen == 1000 and len(first) == 50 == len(set(first))
    assert first == again == sorted(first) and other != first


def test_everything_when_the_input_is_smaller_than_the_sample():
    assert reservoir_sample(iter(["b", "a"]), 5, seed=1) == (["b", "a"], 2)
    with pytest.raises(UserError):
        reservoir_sample(iter(["a"]), 0, seed=1)


def test_sample_is_uniform_over_positions():
    hits = Counter()
    for seed in range(400):
        sample, _ = reservoir_sample(iter(range(20)), 5, seed)
        hits.update(sample)
    # each position expected 400 * 5 / 20 = 100 times
    assert all(70 < hits[i] < 130 for i in range(20)), hits


def test_training_words_split_at_anything_but_acgt():
    assert list(training_words(["acgtNNGGryTT", "NNN", "A"])) == ["ACGT", "GG", "TT", "A"]
