"""The GPU forward path without host syncs: a padded batch run at its padded shape (no unpadding,
no questions to the mask) gives the unpadded path's numbers; no mask means no padding; the
ALiBi bias is built once per shape and usable for training after validation; LayerNorm keeps
the residual stream in the autocast dtype."""

import pytest
import torch

from enhancer_tools.models.adapter import to_device
from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification
from enhancer_tools.models.precision import autocast

TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(seed=0, **overrides):
    torch.manual_seed(seed)
    return DNABERT2ForSequenceClassification(DNABERT2Config.tiny(vocab_size=64, **overrides)).eval()


def padded_batch(lengths=(12, 7, 3, 12), seed=1):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 64, (len(lengths), max(lengths)), generator=generator)
    mask = torch.zeros_like(ids)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
    return ids.masked_fill(mask == 0, 3), mask


@pytest.fixture
def no_host_sync(monkeypatch):
    """Any read of a tensor's value by the host fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("host sync in the forward")

    for name in ("__bool__", "item", "__float__", "__int__", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, refuse)
    monkeypatch.setattr(torch, "nonzero", refuse)


@pytest.mark.parametrize("implementation", ["sdpa", "eager", pytest.param("flex", marks=pytest.mark.slow)])
def test_padded_shape_path_matches_the_unpadded_path(implementation):
    model = tiny_model()
    model.set_attention_implementation(implementation)
    ids, mask = padded_batch()
    with torch.no_grad():
        unpadded = model(ids, mask, output_hidden_states=True)
        model.set_unpad_tokens(False)
        padded = model(ids, mask, output_hidden_states=True)
    torch.testing.assert_close(padded.logits, unpadded.logits, **TOL)
    for a, b in zip(padded.hidden_states, unpadded.hidden_states):
        torch.testing.assert_close(a, b, **TOL)
    assert (padded.hidden_states[-1][mask == 0] == 0).all()


def test_padded_shape_forward_asks_the_host_nothing(no_host_sync):
    model = tiny_model()
    model.set_unpad_tokens(False)
    ids, mask = padded_batch()
    with torch.no_grad():
        model(ids, mask)
        model(ids)  # no mask: no padding


def test_no_mask_is_an_all_ones_mask():
    model = tiny_model()
    ids, _ = padded_batch(lengths=(9, 9, 9))
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, model(ids, torch.ones_like(ids)).logits, rtol=0, atol=0)


def test_to_device_drops_a_mask_without_padding_on_the_cpu_side():
    ids, mask = padded_batch()
    assert set(to_device({"input_ids": ids, "attention_mask": mask}, "cpu")) == {"input_ids", "attention_mask"}
    assert set(to_device({"input_ids": ids, "attention_mask": torch.ones_like(mask)}, "cpu")) == {"input_ids"}


def test_alibi_is_built_once_per_shape_and_trains_after_inference():
    model = tiny_model()
    ids, mask = padded_batch()
    with torch.inference_mode():
        model(ids, mask)
    cache = model.bert.encoder.alibi_cache
    first = dict(cache._tensors)
    assert list(first) == [(12, torch.float32, "cpu")]
    model.train()
    loss = model(ids, mask, labels=torch.tensor([0, 1, 0, 1])).loss
    loss.backward()  # the cached bias was made outside inference mode
    assert cache._tensors[(12, torch.float32, "cpu")] is first[(12, torch.float32, "cpu")]


def test_residual_stream_stays_in_the_autocast_dtype():
    model = tiny_model()
    ids, mask = padded_batch()
    with torch.no_grad(), autocast("bf16", "cpu"):
        out = model(ids, mask, output_hidden_states=True)
    assert all(h.dtype == torch.bfloat16 for h in out.hidden_states[1:])
    with torch.no_grad():
        reference = model(ids, mask).logits
    assert torch.isfinite(out.logits).all()
    torch.testing.assert_close(out.logits.float(), reference, atol=0.1, rtol=0.1)
