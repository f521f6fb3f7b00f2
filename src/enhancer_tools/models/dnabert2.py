"""DNABERT-2, written from its published architecture, in one self-contained modeling file.

DNABERT-2 is a BERT encoder with the MosaicBERT changes: no position embeddings but a symmetric
ALiBi attention bias, a fused ``Wqkv`` projection, post-LayerNorm blocks and a gated-GELU MLP.
The module and parameter names reproduce the original Hugging Face key layout
(``bert.encoder.layer.0.attention.self.Wqkv.weight`` ...), so released checkpoints load without
``trust_remote_code`` (see ``dnabert2_io`` for reading and writing model directories).

Attention implementations are swappable functions behind ``config.attention_implementation``:
"sdpa" (default; ``scaled_dot_product_attention`` with an additive ALiBi + padding bias),
"flex" (FlexAttention with ALiBi as a score modifier; a compiled kernel on CUDA) and "eager"
(the reference; the only one that returns attention maps, so asking for them switches to it).
On the CPU, batches with padding run their linear layers on the real tokens only (unpadded);
on a GPU they run at their padded shape, so that the forward never waits for the device
(``DNABERT2Encoder._padding``). The ALiBi bias is built once per (length, dtype, device); under
autocast the residual stream stays in the autocast dtype (``LayerNorm``).

Layout, top-down: helpers (ALiBi slopes, attention bias, padding), attention implementations,
configuration, layers, outputs, the pretrained base, the encoder and its heads. The precision a
model runs under is decided in ``models.precision``.

Shapes in comments: B batch, L padded length, N real (unpadded) tokens, H hidden size,
A attention heads, D head size (H / A), I intermediate size, V vocabulary size.

This module imports torch at import time: command-line modules import it inside functions.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from enhancer_tools.errors import UserError
from enhancer_tools.models import dnabert2_io
from enhancer_tools.models.dnabert2_config import (  # noqa: F401  (re-exported: the model's config lives beside it)
    ATTENTION_IMPLEMENTATIONS,
    DNABERT2Config,
    check_attention_implementation,
)

IGNORE_INDEX = -100


# ----------------------------------------------------------------------------------------------
# Helpers: ALiBi, attention bias, padding
# ----------------------------------------------------------------------------------------------


def alibi_slopes(num_heads: int) -> torch.Tensor:
    """ALiBi slopes for ``num_heads`` heads, float32 [A], in DNABERT-2's order.

    For a power of two n, head h gets 2^(-8(h+1)/n). Otherwise, with c the largest power of two
    below n, the c slopes of the c-head rule come first, followed by the slopes at even indices
    (0, 2, 4, ...) of the 2c-head rule, the first n - c of them.
    """
    if num_heads < 1:
        raise UserError(f"num_attention_heads must be at least 1, got {num_heads}")

    def power_of_two_rule(n: int) -> list[float]:
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    closest = 2 ** int(math.floor(math.log2(num_heads)))
    slopes = power_of_two_rule(closest)
    if closest < num_heads:
        slopes += power_of_two_rule(2 * closest)[0::2][: num_heads - closest]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(slopes: torch.Tensor, length: int) -> torch.Tensor:
    """Symmetric ALiBi bias [A, L, L]: bias[h, i, j] = -slope_h * |i - j| (dtype of ``slopes``)."""
    positions = torch.arange(length, device=slopes.device)
    distance = (positions[None, :] - positions[:, None]).abs().to(slopes.dtype)  # [L, L]
    return -slopes[:, None, None] * distance[None]


def _aligned(bias: torch.Tensor) -> torch.Tensor:
    """On CUDA, memory-efficient SDPA kernels want 16-byte aligned bias rows: pad the storage, not
    the view."""
    length = bias.shape[-1]
    if bias.device.type != "cuda" or length % 8 == 0:
        return bias
    aligned = bias.new_zeros(bias.shape[:-1] + (-(-length // 8) * 8,))
    aligned[..., :length] = bias
    return aligned[..., :length]


def attention_bias(slopes: torch.Tensor, attention_mask: torch.Tensor | None, dtype: torch.dtype,
                   length: int | None = None, alibi: torch.Tensor | None = None,
                   check_padding: bool = True) -> torch.Tensor:
    """Additive attention bias in ``dtype``: ALiBi plus a key-padding mask.

    Shape [B, A, L, L] when the batch may have padding, else [1, A, L, L] (broadcast over the
    batch). ``attention_mask`` None means no padding (then ``length`` gives L). Whether a mask
    has padding is only asked of a mask on the CPU (free) when ``check_padding``; otherwise a
    mask is taken as padded, so that the forward never waits for the device. ``alibi``: a
    cached ``[1, A, L, L]`` ALiBi in ``dtype`` (``ALiBiCache``), else it is built here.

    Padding keys get ``torch.finfo(dtype).min``, a finite value, so that a softmax over a row
    stays finite even in float16 (where -10000 or -inf arithmetic overflows or gives NaN).
    The ALiBi is formed in float32 (or float64) and clamped before the cast for the same reason.
    """
    length = attention_mask.shape[1] if attention_mask is not None else length
    minimum = torch.finfo(dtype).min
    if alibi is None:
        device = attention_mask.device if attention_mask is not None else slopes.device
        work_dtype = torch.promote_types(dtype, torch.float32)
        alibi = alibi_bias(slopes.to(device, work_dtype), length)[None].clamp_min(minimum).to(dtype)  # [1, A, L, L]
        alibi = _aligned(alibi)
    if attention_mask is None:
        return alibi
    if check_padding and attention_mask.device.type == "cpu" and bool(attention_mask.all()):
        return alibi
    key_is_pad = (attention_mask == 0)[:, None, None, :]  # [B, 1, 1, L]
    return _aligned(alibi.masked_fill(key_is_pad, minimum))


class ALiBiCache:
    """The [1, A, L, L] ALiBi bias, built once per (length, dtype, device) and reused; at most
    ``size`` of them are kept (the oldest goes first)."""

    size = 64

    def __init__(self) -> None:
        self._tensors: dict[tuple, torch.Tensor] = {}

    def get(self, slopes: torch.Tensor, length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        key = (length, dtype, str(device))
        bias = self._tensors.get(key)
        if bias is None:
            # a normal tensor even when first asked for under inference_mode (validation), so
            # that training may later save it for backward
            with torch.inference_mode(False), torch.no_grad():
                bias = attention_bias(slopes.to(device), None, dtype, length=length)
            if len(self._tensors) >= self.size:
                self._tensors.pop(next(iter(self._tensors)))
            self._tensors[key] = bias
        return bias


@dataclass
class PaddingInfo:
    """Where the real tokens of a right- or arbitrarily-padded batch sit."""

    indices: torch.Tensor  # [N] flat positions (row-major over [B, L]) of the real tokens
    batch: int
    length: int


def unpad(hidden: torch.Tensor, info: PaddingInfo) -> torch.Tensor:
    """[B, L, ...] -> [N, ...]: keep the real tokens."""
    return hidden.flatten(0, 1).index_select(0, info.indices)


def pad(hidden: torch.Tensor, info: PaddingInfo) -> torch.Tensor:
    """[N, ...] -> [B, L, ...] with zeros at the padding positions (one allocation)."""
    out = hidden.new_zeros((info.batch * info.length,) + tuple(hidden.shape[1:]))
    out.index_copy_(0, info.indices, hidden)
    return out.view((info.batch, info.length) + tuple(hidden.shape[1:]))


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 (as autocast does) whose output is in the compute dtype, so
    that under autocast the residual stream stays in bfloat16/float16 instead of float32 (no
    cast before every Linear). Without autocast it is ``nn.LayerNorm``; the parameter names are
    unchanged."""

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        out = super().forward(hidden)
        device_type = hidden.device.type
        if torch.is_autocast_enabled(device_type):
            return out.to(torch.get_autocast_dtype(device_type))
        return out


# ----------------------------------------------------------------------------------------------
# Attention implementations: f(q, k, v, bias, dropout_p) -> (context [B, A, L, D], probs or None)
# q, k, v: [B, A, L, D]; bias: [B or 1, A, L, L] additive, from attention_bias().
# ----------------------------------------------------------------------------------------------


def eager_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference attention; returns the probabilities too. Softmax runs in float32."""
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])  # [B, A, L, L]
    scores = scores.float() + bias.float()
    probs = torch.softmax(scores, dim=-1).to(v.dtype)
    if dropout_p > 0.0:
        probs = F.dropout(probs, p=dropout_p)
    return torch.matmul(probs, v), probs


def sdpa_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> tuple[torch.Tensor, None]:
    """Fused ``scaled_dot_product_attention`` with the ALiBi + padding bias; no probabilities."""
    context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), dropout_p=dropout_p)
    return context, None


@dataclass
class FlexBias:
    """ALiBi as a FlexAttention score modifier plus a key-padding block mask (no [B, A, L, L] tensor)."""

    score_mod: Callable
    block_mask: Any


def flex_bias(slopes: torch.Tensor, attention_mask: torch.Tensor | None) -> FlexBias:
    """The FlexAttention form of attention_bias(): same scores, padding blocks skipped.

    No mask (no padding): no block mask at all. On CUDA the block mask is built by a compiled
    function, compiled once per batch shape (static bucket lengths keep that to a few graphs)."""
    from torch.nn.attention.flex_attention import create_block_mask

    slopes = slopes.to(attention_mask.device if attention_mask is not None else slopes.device, torch.float32)

    def alibi(score, b, h, q_idx, kv_idx):
        return score - slopes[h] * (q_idx - kv_idx).abs()

    if attention_mask is None:
        return FlexBias(alibi, None)
    batch, length = attention_mask.shape
    key_is_real = attention_mask.bool()

    def real_keys(b, h, q_idx, kv_idx):
        return key_is_real[b, kv_idx]

    device = attention_mask.device
    block_mask = create_block_mask(real_keys, batch, None, length, length, device=device,
                                   _compile=device.type == "cuda")
    return FlexBias(alibi, block_mask)


@functools.cache
def _compiled_flex_attention() -> Callable:
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention)


def flex_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: FlexBias, dropout_p: float
) -> tuple[torch.Tensor, None]:
    """FlexAttention with ALiBi as a score modifier: a compiled fused kernel on CUDA.

    Elsewhere it runs torch's unfused reference implementation (for tests, not for speed).
    Attention dropout is not supported (DNABERT-2 uses none).
    """
    from torch.nn.attention.flex_attention import flex_attention as unfused

    if q.device.type == "cuda":
        return _compiled_flex_attention()(q, k, v, score_mod=bias.score_mod, block_mask=bias.block_mask), None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")
        return unfused(q, k, v, score_mod=bias.score_mod, block_mask=bias.block_mask), None


ATTENTION_FUNCTIONS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor | None]]] = {
    "eager": eager_attention,
    "sdpa": sdpa_attention,
    "flex": flex_attention,
}


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------


class DNABERT2Embeddings(nn.Module):
    """Word + token-type embeddings, LayerNorm, dropout. DNABERT-2 has no position embeddings."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        # No padding_idx: padding embeddings never reach real tokens (masked keys, unpadded rows).
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None) -> torch.Tensor:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        embedded = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(embedded))  # [B, L, H]


class DNABERT2SelfAttention(nn.Module):
    """Fused Q|K|V projection (rows: Q, K, V, each head-major) and the attention itself."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_size = config.head_size
        self.dropout_p = config.attention_probs_dropout_prob
        self.Wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, padding: PaddingInfo | None, implementation: str
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        qkv = self.Wqkv(hidden)  # [N, 3H] unpadded or [B, L, 3H]
        if padding is not None:
            qkv = pad(qkv, padding)
        batch, length = qkv.shape[:2]
        qkv = qkv.view(batch, length, 3, self.num_heads, self.head_size).permute(2, 0, 3, 1, 4)  # [3, B, A, L, D]
        dropout_p = self.dropout_p if self.training else 0.0
        context, probs = ATTENTION_FUNCTIONS[implementation](qkv[0], qkv[1], qkv[2], bias, dropout_p)
        context = context.transpose(1, 2).reshape(batch, length, -1)  # [B, L, H]
        if padding is not None:
            context = unpad(context, padding)
        return context, probs


class DNABERT2AttentionOutput(nn.Module):
    """Output projection, dropout, residual, post-LayerNorm."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(residual + self.dropout(self.dense(context)))


class DNABERT2Attention(nn.Module):
    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.self = DNABERT2SelfAttention(config)
        self.output = DNABERT2AttentionOutput(config)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, padding: PaddingInfo | None, implementation: str
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        context, probs = self.self(hidden, bias, padding, implementation)
        return self.output(context, hidden), probs


class DNABERT2GatedMLP(nn.Module):
    """Gated GELU MLP: GELU(x Wg) * (x Wl), dropout, ``wo``, residual, post-LayerNorm."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.intermediate_size = config.intermediate_size
        self.gated_layers = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.act = nn.GELU(approximate="none")
        self.wo = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layernorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        projected = self.gated_layers(hidden)  # [..., 2I]: gate rows first, then the linear rows
        gate, linear = projected[..., : self.intermediate_size], projected[..., self.intermediate_size :]
        return self.layernorm(hidden + self.wo(self.dropout(self.act(gate) * linear)))


class DNABERT2Layer(nn.Module):
    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.attention = DNABERT2Attention(config)
        self.mlp = DNABERT2GatedMLP(config)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, padding: PaddingInfo | None, implementation: str
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, probs = self.attention(hidden, bias, padding, implementation)
        return self.mlp(attended), probs


class DNABERT2Encoder(nn.Module):
    """The layer stack. Runs on the real tokens only ([N, H]) when the batch has padding."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList(DNABERT2Layer(config) for _ in range(config.num_hidden_layers))
        self.register_buffer("alibi_slopes", alibi_slopes(config.num_attention_heads), persistent=False)
        self.alibi_cache = ALiBiCache()
        self.gradient_checkpointing = False
        # None: gather the real tokens of a padded batch on the CPU only (see _padding)
        self.unpad_tokens: bool | None = None

    def _padding(self, attention_mask: torch.Tensor | None) -> tuple[bool, PaddingInfo | None]:
        """(whether padding keys must be masked, the unpadding of the real tokens or None).

        Only where the real tokens are gathered (``unpad_tokens``; by default on the CPU) is the
        mask asked whether it has padding and ``torch.nonzero`` called: on a GPU both would make
        the forward wait for the device. Elsewhere a batch with a mask runs at its padded shape
        (length bucketing keeps the padding small), padding keys masked in the bias; callers
        drop a mask without padding on the CPU side (``adapter.to_device``).
        """
        if attention_mask is None:
            return False, None
        on_cpu = attention_mask.device.type == "cpu"
        unpad_tokens = on_cpu if self.unpad_tokens is None else self.unpad_tokens
        if not unpad_tokens:
            return True, None  # the mask is not asked anything: no host sync
        if bool(attention_mask.all()):
            return False, None
        batch, length = attention_mask.shape
        return True, PaddingInfo(torch.nonzero(attention_mask.flatten()).flatten(), batch, length)

    def _bias(self, implementation: str, attention_mask: torch.Tensor | None, masked: bool, length: int,
              dtype: torch.dtype, device: torch.device):
        if implementation == "flex":
            return flex_bias(self.alibi_slopes, attention_mask if masked else None)
        alibi = self.alibi_cache.get(self.alibi_slopes, length, dtype, device)
        return attention_bias(self.alibi_slopes, attention_mask if masked else None, dtype, length, alibi,
                              check_padding=False)

    def forward(
        self,
        embedded: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        implementation = "eager" if output_attentions else self.config.attention_implementation
        device_type = embedded.device.type
        autocast = torch.is_autocast_enabled(device_type)
        compute_dtype = torch.get_autocast_dtype(device_type) if autocast else embedded.dtype
        masked, padding = self._padding(attention_mask)
        bias = self._bias(implementation, attention_mask, masked, embedded.shape[1], compute_dtype, embedded.device)
        hidden = embedded if padding is None else unpad(embedded, padding)  # [B, L, H] or [N, H]
        keep = attention_mask[..., None] if masked and padding is None else None  # [B, L, 1]

        def padded(states: torch.Tensor) -> torch.Tensor:
            if padding is not None:
                return pad(states, padding)
            return states * keep.to(states.dtype) if keep is not None else states

        all_hidden = [embedded] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layer:
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                hidden, probs = checkpoint(layer, hidden, bias, padding, implementation, use_reentrant=False)
            else:
                hidden, probs = layer(hidden, bias, padding, implementation)
            if all_hidden is not None:
                all_hidden.append(padded(hidden))
            if all_attentions is not None:
                all_attentions.append(probs)
        return (
            padded(hidden),  # exact zeros at the padding positions
            tuple(all_hidden) if all_hidden is not None else None,
            tuple(all_attentions) if all_attentions is not None else None,
        )


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """The mean of ``hidden`` [B, L, H] over the real tokens (``attention_mask`` 1; None: all)."""
    if attention_mask is None:
        return hidden.mean(dim=1)
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


class DNABERT2Pooler(nn.Module):
    """tanh(dense(v)), v the [CLS] state (the released head), the masked mean of the token states,
    or the average of both (``config.classifier_pooling``). At random initialisation the [CLS]
    state barely varies between sequences (~0.2% of its norm in the tiny model) while the mean
    varies ~40x more, so a model trained from scratch leaves the loss plateau far sooner with mean."""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()
        self.pooling = config.classifier_pooling

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "mean":
            pooled = masked_mean(hidden, attention_mask)
        else:
            pooled = (hidden[:, 0] + masked_mean(hidden, attention_mask)) / 2
        return self.activation(self.dense(pooled))


# ----------------------------------------------------------------------------------------------
# Outputs
# ----------------------------------------------------------------------------------------------


@dataclass
class DNABERT2ModelOutput:
    """``last_hidden_state`` [B, L, H] (zeros at padding); ``pooler_output`` [B, H] or None;
    ``hidden_states``: embeddings then each layer, [B, L, H] each (zeros at padding after the
    embeddings); ``attentions``: each layer's probabilities [B, A, L, L]."""

    last_hidden_state: torch.Tensor
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class SequenceClassifierOutput:
    """``logits`` [B, num_labels]; ``loss`` (cross-entropy) when labels were given."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class MaskedLMOutput:
    """``logits`` [B, L, V]; ``loss`` (cross-entropy over labels != -100) when labels were given."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


# ----------------------------------------------------------------------------------------------
# Pretrained base, encoder model, heads
# ----------------------------------------------------------------------------------------------


class DNABERT2PreTrainedModel(nn.Module):
    """Weight initialisation, run-time switches, and loading/saving of every DNABERT-2 class."""

    architecture = ""

    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.config = config

    def init_weights(self) -> None:
        """BERT initialisation: normal(0, initializer_range) weights, zero biases, unit LayerNorms."""
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def set_attention_implementation(self, implementation: str) -> None:
        """Choose "sdpa" (fused, default), "eager" (reference, can return attention maps) or
        "flex" (FlexAttention; compiled kernel on CUDA)."""
        check_attention_implementation(implementation, self.config.attention_probs_dropout_prob)
        self.config.attention_implementation = implementation

    def gradient_checkpointing_enable(self, enabled: bool = True) -> None:
        """Recompute each layer's activations in the backward pass (less memory, ~30% slower)."""
        for module in self.modules():
            if isinstance(module, DNABERT2Encoder):
                module.gradient_checkpointing = enabled

    def set_unpad_tokens(self, enabled: bool | None) -> None:
        """Whether padded batches run their linear layers on the real tokens only: True, False
        (run at the padded shape: static shapes, no ``torch.nonzero`` host sync) or None (the
        default: on the CPU only)."""
        for module in self.modules():
            if isinstance(module, DNABERT2Encoder):
                module.unpad_tokens = enabled

    def compile_layers(self, **compile_options: Any) -> None:
        """``torch.compile`` each encoder layer in place (state-dict keys stay unchanged).

        Defaults to ``dynamic=True`` because the number of real tokens changes between batches;
        with static shapes (``set_unpad_tokens(False)`` and padding to fixed bucket lengths)
        ``dynamic=False`` compiles one graph per bucket shape, reused from then on.
        """
        compile_options.setdefault("dynamic", True)
        for module in self.modules():
            if isinstance(module, DNABERT2Layer):
                module.compile(**compile_options)

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Number of distinct parameters, optionally without the embedding tables."""
        seen: dict[int, int] = {}
        for name, parameter in self.named_parameters():
            if exclude_embeddings and "embeddings" in name:
                continue
            seen[id(parameter)] = parameter.numel()
        return sum(seen.values())

    @classmethod
    def from_pretrained(cls, directory, **config_overrides: Any):
        """Load a model directory (config.json + model.safetensors or pytorch_model.bin).

        The weights may come from any DNABERT-2 class: see ``dnabert2_io.load_pretrained``.
        """
        return dnabert2_io.load_pretrained(cls, directory, **config_overrides)

    def save_pretrained(self, directory, provenance: dict | None = None, tokenizer_json=None) -> None:
        """Write model.safetensors, config.json, provenance.json (and tokenizer.json when given)."""
        dnabert2_io.save_pretrained(self, directory, provenance=provenance, tokenizer_json=tokenizer_json)


class DNABERT2Model(DNABERT2PreTrainedModel):
    """The DNABERT-2 encoder (``bert.*`` keys), with the [CLS] pooler unless disabled."""

    architecture = "BertModel"

    def __init__(self, config: DNABERT2Config, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = DNABERT2Embeddings(config)
        self.encoder = DNABERT2Encoder(config)
        self.pooler = DNABERT2Pooler(config) if add_pooling_layer else None
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> DNABERT2ModelOutput:
        """Encode ``input_ids`` [B, L]; ``attention_mask`` [B, L] is 1 at real tokens (None: all real)."""
        embedded = self.embeddings(input_ids, token_type_ids)
        last, hidden_states, attentions = self.encoder(
            embedded, attention_mask, output_attentions, output_hidden_states
        )
        pooled = self.pooler(last, attention_mask) if self.pooler is not None else None
        return DNABERT2ModelOutput(last, pooled, hidden_states, attentions)


class DNABERT2ForSequenceClassification(DNABERT2PreTrainedModel):
    """Encoder + pooler + dropout + linear classifier (``classifier.*``) on the pooled state
    ([CLS], token mean or both: ``config.classifier_pooling``)."""

    architecture = "BertForSequenceClassification"

    def __init__(self, config: DNABERT2Config):
        super().__init__(config)
        self.bert = DNABERT2Model(config, add_pooling_layer=True)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> SequenceClassifierOutput:
        """Class logits [B, num_labels]; cross-entropy ``loss`` when ``labels`` [B] are given."""
        encoded = self.bert(input_ids, attention_mask, token_type_ids, output_attentions, output_hidden_states)
        logits = self.classifier(self.dropout(encoded.pooler_output))
        loss = F.cross_entropy(logits.float(), labels) if labels is not None else None
        return SequenceClassifierOutput(logits, loss, encoded.pooler_output, encoded.hidden_states, encoded.attentions)


class DNABERT2PredictionHeadTransform(nn.Module):
    def __init__(self, config: DNABERT2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = nn.GELU(approximate="none")
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.act(self.dense(hidden)))


class DNABERT2LMPredictionHead(nn.Module):
    """Transform, then the decoder whose weight is the word-embedding matrix (tied)."""

    def __init__(self, config: DNABERT2Config, word_embeddings: nn.Embedding):
        super().__init__()
        self.transform = DNABERT2PredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = word_embeddings.weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden))


class DNABERT2MLMHead(nn.Module):
    def __init__(self, config: DNABERT2Config, word_embeddings: nn.Embedding):
        super().__init__()
        self.predictions = DNABERT2LMPredictionHead(config, word_embeddings)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.predictions(hidden)


class DNABERT2ForMaskedLM(DNABERT2PreTrainedModel):
    """Encoder (no pooler) + masked-LM head (``cls.predictions.*``), as in the released checkpoint."""

    architecture = "BertForMaskedLM"

    def __init__(self, config: DNABERT2Config):
        super().__init__(config)
        self.bert = DNABERT2Model(config, add_pooling_layer=False)
        self.cls = DNABERT2MLMHead(config, self.bert.embeddings.word_embeddings)
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> MaskedLMOutput:
        """Vocabulary logits [B, L, V]; ``loss`` over positions where ``labels`` [B, L] != -100."""
        encoded = self.bert(input_ids, attention_mask, token_type_ids, output_attentions, output_hidden_states)
        logits = self.cls(encoded.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX)
        return MaskedLMOutput(logits, loss, encoded.hidden_states, encoded.attentions)
