"""A killed dnabert2-pretrain run continued with --resume ends with the same weights as an
uninterrupted one (CPU), with gradient accumulation and reverse-complement augmentation on; a
checkpoint of other settings is refused."""

import pytest
import torch
from pretrain_helpers import run_library, small_genome, small_tokenizer
from safetensors.torch import load_file

from enhancer_tools.errors import UserError


class Stop(Exception):
    pass


def _stop_at(step):
    def hook(s):
        if s == step:
            raise Stop

    return hook


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    genome = small_genome(tmp_path)
    tokenizer = small_tokenizer(genome, tmp_path / "tokenizer.json")
    settings = {"grad_accum": 2, "checkpoint_every": 2, "eval_every": 3, "steps": 7}
    _, result_a = run_library(genome, tokenizer, tmp_path / "a", settings=settings)

    with pytest.raises(Stop):
        run_library(genome, tokenizer, tmp_path / "b", settings=settings, on_step=_stop_at(5))
    assert not (tmp_path / "b").exists()
    assert (tmp_path / "b.work" / "checkpoint" / "latest.json").is_file()
    with pytest.raises(UserError, match="--resume"):
        run_library(genome, tokenizer, tmp_path / "b", settings=settings)
    with pytest.raises(UserError, match="other data or settings"):
        run_library(genome, tokenizer, tmp_path / "b", settings={**settings, "mask_prob": 0.2}, resume=True)
    _, result_b = run_library(genome, tokenizer, tmp_path / "b", settings=settings, resume=True)

    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"
    assert result_a.log == result_b.log
    assert result_a.tokens_seen == result_b.tokens_seen and result_a.steps == result_b.steps == 7
    assert not (tmp_path / "b.work").exists()
