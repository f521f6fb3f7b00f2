"""Eager and SDPA attention agree; masks are safe in low precision; training switches work."""

import pytest
import torch

from enhancer_tools.errors import UserError
from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForMaskedLM,
    DNABERT2ForSequenceClassification,
    DNABERT2Model,
    alibi_slopes,
    attention_bias,
)
from enhancer_tools.models.precision import autocast, autocast_dtype, needs_grad_scaler

TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run faster (and steadier on a shared machine) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(cls=DNABERT2ForSequenceClassification, seed=0, **overrides):
    torch.manual_seed(seed)
    config = DNABERT2Config.tiny(vocab_size=64, **overrides)
    return cls(config).eval()


def padded_batch(seed=1):
    generator = torch.Generator().manual_seed(seed)
    lengths = [12, 7, 3, 12]
    ids = torch.randint(5, 64, (len(lengths), max(lengths)), generator=generator)
    mask = torch.zeros_like(ids)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
        ids[row, 0], ids[row, length - 1] = 1, 2
    return ids.masked_fill(mask == 0, 3), mask


@pytest.mark.parametrize(
    "heads, implementation",
    [(4, "sdpa"), (8, "sdpa"), (16, "sdpa"), pytest.param(12, "flex", marks=pytest.mark.slow)],
)
def test_fast_paths_agree_with_eager(heads, implementation):
    model = tiny_model(hidden_size=96, num_attention_heads=heads)
    ids, mask = padded_batch()
    outputs = {}
    for name in ("eager", implementation):
        model.set_attention_implementation(name)
        with torch.no_grad():
            outputs[name] = model(ids, mask, output_hidden_states=True)
    torch.testing.assert_close(outputs["eager"].logits, outputs[implementation].logits, **TOL)
    for eager, fast in zip(outputs["eager"].hidden_states, outputs[implementation].hidden_states):
        torch.testing.assert_close(eager, fast, **TOL)


def test_flex_refuses_attention_dropout():
    with pytest.raises(UserError, match="flex"):
        tiny_model(attention_probs_dropout_prob=0.1).set_attention_implementation("flex")


def test_padding_does_not_change_real_tokens():
    model = tiny_model(DNABERT2Model)
    ids, mask = padded_batch()
    with torch.no_grad():
        batched = model(ids, mask).last_hidden_state
        for row in range(ids.shape[0]):
            length = int(mask[row].sum())
            alone = model(ids[row : row + 1, :length]).last_hidden_state[0]
            torch.testing.assert_close(batched[row, :length], alone, **TOL)
            assert torch.count_nonzero(batched[row, length:]) == 0


def test_output_attentions_falls_back_to_eager():
    model = tiny_model(num_attention_heads=4)
    model.set_attention_implementation("sdpa")
    ids, mask = padded_batch()
    with torch.no_grad():
        out = model(ids, mask, output_attentions=True, output_hidden_states=True)
        plain = model(ids, mask)
    assert len(out.attentions) == 2 and len(out.hidden_states) == 3
    probs = out.attentions[0]
    assert probs.shape == (4, 4, 12, 12)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4, 4, 12))
    assert torch.count_nonzero(probs[2, :, :, 3:]) == 0, "padding keys get no attention"
    torch.testing.assert_close(out.logits, plain.logits, **TOL)
    assert model.config.attention_implementation == "sdpa"


def test_unknown_attention_implementation_is_a_user_error():
    with pytest.raises(UserError, match="flash"):
        tiny_model().set_attention_implementation("flash")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_attention_bias_is_finite_in_low_precision(dtype):
    # 40 positions: float16 min + ALiBi (-0.5 * 39) would already overflow to -inf unclamped
    mask = torch.tensor([[1] * 40, [1] * 5 + [0] * 35, [0] * 40])
    bias = attention_bias(alibi_slopes(12), mask, dtype)
    assert bias.dtype == dtype and bias.shape == (3, 12, 40, 40)
    assert torch.isfinite(bias).all()
    assert (bias[1, :, :, 5:] == torch.finfo(dtype).min).all()
    scores = torch.softmax(bias.float(), dim=-1)
    assert torch.isfinite(scores).all(), "even a row with only padding keys stays finite"


def test_attention_bias_without_padding_broadcasts_over_the_batch():
    bias = attention_bias(alibi_slopes(4), torch.ones(8, 6, dtype=torch.long), torch.float32)
    assert bias.shape == (1, 4, 6, 6)
    assert bias[0, 3, 0, 5] == -5 * 2.0**-8


def test_half_precision_model_gives_finite_outputs():
    model = tiny_model().to(torch.bfloat16)
    ids, mask = padded_batch()
    for implementation in ("eager", "sdpa"):
        model.set_attention_implementation(implementation)
        with torch.no_grad():
            assert torch.isfinite(model(ids, mask).logits).all()


def test_bf16_autocast_on_cpu_runs():
    model = tiny_model()
    ids, mask = padded_batch()
    with torch.no_grad():
        reference = model(ids, mask).logits
        with autocast("bf16", "cpu"):
            low = model(ids, mask).logits
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=0.05, rtol=0.05)


def test_precision_policy_on_cpu():
    assert autocast_dtype("auto", "cpu") is None
    assert not needs_grad_scaler("auto", "cpu")
    with autocast("auto", "cpu"):
        assert not torch.is_autocast_enabled("cpu")


def test_gradient_checkpointing_gives_the_same_gradients():
    ids, mask = padded_batch()
    labels = torch.tensor([0, 1, 1, 0])
    gradients = []
    for checkpointing in (False, True):
        model = tiny_model(hidden_dropout_prob=0.0).train()
        model.gradient_checkpointing_enable(checkpointing)
        model(ids, mask, labels=labels).loss.backward()
        gradients.append(model.bert.encoder.layer[0].attention.self.Wqkv.weight.grad)
    torch.testing.assert_close(gradients[0], gradients[1], **TOL)


def test_masked_lm_loss_ignores_unlabelled_positions():
    model = tiny_model(DNABERT2ForMaskedLM)
    ids, mask = padded_batch()
    labels = torch.full_like(ids, -100)
    labels[0, 3] = ids[0, 3]
    out = model(ids, mask, labels=labels)
    expected = torch.nn.functional.cross_entropy(out.logits[0, 3][None], ids[0, 3][None])
    torch.testing.assert_close(out.loss, expected)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


@pytest.mark.slow
def test_compiled_layers_match_and_keep_state_dict_keys():
    model = tiny_model()
    keys = list(model.state_dict())
    ids, mask = padded_batch()
    with torch.no_grad():
        reference = model(ids, mask).logits
        model.compile_layers(backend="eager")
        compiled = model(ids, mask).logits
    torch.testing.assert_close(compiled, reference, **TOL)
    assert list(model.state_dict()) == keys


def test_config_validation():
    with pytest.raises(UserError, match="not a multiple"):
        DNABERT2Config.tiny(num_attention_heads=5)
    with pytest.raises(UserError, match="missing key"):
        DNABERT2Config.from_dict({"hidden_size": 64})
    with pytest.raises(UserError, match="hidden_act"):
        DNABERT2Config.tiny(hidden_act="relu")


def test_parameter_count_of_the_117m_shape():
    with torch.device("meta"):
        model = DNABERT2ForMaskedLM(DNABERT2Config())
    assert model.num_parameters() == 117_074_176  # the released checkpoint's unique float32 count


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("implementation", ["sdpa", "flex"])
def test_cuda_autocast_fast_paths_match_float32_eager(implementation):
    model = tiny_model().cuda()
    ids, mask = (tensor.cuda() for tensor in padded_batch())
    with torch.no_grad():
        model.set_attention_implementation("eager")
        reference = model(ids, mask).logits
        model.set_attention_implementation(implementation)
        with autocast("auto", "cuda"):
            fast = model(ids, mask).logits
    torch.testing.assert_close(fast.float(), reference, atol=0.05, rtol=0.05)
    model.train()
    with autocast("auto", "cuda"):
        loss = model(ids, mask, labels=torch.tensor([0, 1, 1, 0], device="cuda")).loss
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
