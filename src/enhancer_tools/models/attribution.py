"""Integrated gradients of a torch model's positive-class log-odds with respect to its input,
as nucleotide attributions (``TorchScorer.integrated_gradients`` is the public entry point).

- One-hot kinds (EnhancerNet, ``OneHotAdapter``): gradients on the one-hot input [4, width];
  the baseline is all zeros (the adapter's padding: "no sequence"), so the attribution of a
  position is ``onehot * mean_gradient`` and lives on the observed base only. The hypothetical
  contributions (what each base would contribute there; tfmodisco-lite's input) are the
  mean gradients, centred over the four channels. The adapter centre-crops longer sequences
  and centre-pads shorter ones; attributions are mapped back to sequence positions (bases the
  crop removed get 0).
- Token kinds (DNABERT-2, ``TokenAdapter``): gradients on the word embeddings of the sequence
  tokens (a forward hook replaces the embedding lookup, so the model file needs no change);
  the baseline is the zero embedding for sequence tokens, [CLS]/[SEP]/[PAD] keep theirs. A
  token's attribution is ``sum_h (e - e0) * mean_gradient`` and is spread evenly over its
  bases (``tokenize.offsets.spread_to_bases``), on the observed base's channel (0.25 in each
  channel for N). The hypothetical contributions are the same array: a token model has no
  gradient for a base it did not see.

Riemann midpoint rule with ``steps`` points; gradients in fp32 whatever the scoring precision.
Values are in the model's raw log-odds (before the calibration temperature).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError

_CODE = {ord(b): i for i, b in enumerate("ACGT")}


@dataclass
class Attribution:
    """One sequence's attributions: ``values`` and ``hypothetical`` [4, len(seq)] (A, C, G, T);
    for token models also the per-token values and their base ranges."""

    values: np.ndarray
    hypothetical: np.ndarray
    token_values: np.ndarray | None = None
    token_offsets: list[tuple[int, int]] | None = None


def one_hot(seq: str) -> np.ndarray:
    """[4, len] float64 one-hot of an upper-cased sequence; 0.25 in each channel for non-ACGT."""
    codes = np.frombuffer(seq.upper().encode("ascii"), dtype=np.uint8)
    out = np.full((4, len(codes)), 0.25)
    known = np.isin(codes, list(_CODE))
    out[:, known] = 0.0
    idx = np.array([_CODE[c] for c in codes[known]], dtype=np.int64)
    out[idx, np.flatnonzero(known)] = 1.0
    return out


def _alphas(steps: int):
    import torch

    return (torch.arange(steps, dtype=torch.float32) + 0.5) / steps


def _window_to_sequence(values: np.ndarray, length: int) -> np.ndarray:
    """Undo the one-hot adapter's centre crop/pad: window columns -> sequence columns."""
    width = values.shape[1]
    if length >= width:
        out = np.zeros((4, length))
        start = (length - width) // 2
        out[:, start:start + width] = values
        return out
    start = (width - length) // 2
    return values[:, start:start + length].astype(np.float64)


def _onehot_ig(model, adapter, seqs: Sequence[str], steps: int, rows: int, device: str, readout) -> list[Attribution]:
    import torch

    x = adapter.collate(adapter.encode([s.upper() for s in seqs]))["x"].to(device)  # [B, 4, W]
    grads = torch.zeros_like(x)
    alphas = _alphas(steps).to(device)
    per_chunk = max(1, rows // len(seqs))
    for lo in range(0, steps, per_chunk):
        a = alphas[lo:lo + per_chunk]
        scaled = (a[:, None, None, None] * x[None]).reshape(-1, *x.shape[1:]).requires_grad_(True)
        (g,) = torch.autograd.grad(readout(model(x=scaled)).sum(), scaled)
        grads += g.reshape(len(a), *x.shape).sum(0)
    mean_grad = (grads / steps).double().cpu().numpy()
    values = x.double().cpu().numpy() * mean_grad
    hyp = mean_grad - mean_grad.mean(axis=1, keepdims=True)
    return [Attribution(_window_to_sequence(values[i], len(s)), _window_to_sequence(hyp[i], len(s)))
            for i, s in enumerate(seqs)]


def word_embeddings(model):
    """The token embedding module of a token model (``get_input_embeddings`` or the module named
    ``*word_embeddings``)."""
    from torch import nn

    getter = getattr(model, "get_input_embeddings", None)
    if getter is not None:
        return getter()
    for name, module in model.named_modules():
        if name.endswith("word_embeddings") and isinstance(module, nn.Embedding):
            return module
    raise UserError("this token model has no word-embedding layer to take gradients on")


def _token_ig(model, adapter, seqs: Sequence[str], steps: int, rows: int, device: str, readout) -> list[Attribution]:
    import torch

    from enhancer_tools.tokenize.encode import special_ids
    from enhancer_tools.tokenize.offsets import spread_to_bases, token_offsets

    batch = {k: v.to(device) for k, v in adapter.collate(adapter.encode([s.upper() for s in seqs])).items()}
    ids, mask = batch["input_ids"], batch["attention_mask"]
    specials = [i for t, i in special_ids(adapter.tokenizer).items() if t != "[UNK]"]
    embed = word_embeddings(model)
    with torch.no_grad():
        full = embed(ids).float()  # [B, T, H]
    base = torch.where(torch.isin(ids, torch.tensor(specials, device=device))[..., None], full, torch.zeros_like(full))
    grads = torch.zeros_like(full)
    state: dict = {}
    handle = embed.register_forward_hook(lambda module, inputs, output: state["embedded"])
    try:
        per_chunk = max(1, rows // len(seqs))
        alphas = _alphas(steps).to(device)
        for lo in range(0, steps, per_chunk):
            a = alphas[lo:lo + per_chunk]
            scaled = (base[None] + a[:, None, None, None] * (full - base)[None]).reshape(-1, *full.shape[1:])
            state["embedded"] = scaled.requires_grad_(True)
            out = readout(model(input_ids=ids.repeat(len(a), 1), attention_mask=mask.repeat(len(a), 1)))
            (g,) = torch.autograd.grad(out.sum(), state["embedded"])
            grads += g.reshape(len(a), *full.shape).sum(0)
    finally:
        handle.remove()
    token_attr = ((full - base) * grads / steps).sum(-1).double().cpu().numpy()  # [B, T]
    result = []
    for i, (seq, offsets) in enumerate(zip(seqs, token_offsets(adapter.tokenizer, seqs, adapter.max_length))):
        tokens = token_attr[i, 1:1 + len(offsets)]
        values = one_hot(seq) * spread_to_bases(tokens, offsets, len(seq))
        result.append(Attribution(values, values.copy(), tokens, offsets))
    return result


def integrated_gradients(scorer, seqs: Sequence[str], steps: int, rows: int, readout) -> list[Attribution]:
    """Integrated gradients of ``scorer``'s model for ``seqs`` (one ``Attribution`` each; see the
    module docstring); at most about ``rows`` model inputs per forward pass; ``readout`` turns a
    model output into log-odds [B] (``scorer.positive_logodds``)."""
    import torch

    from enhancer_tools.models.enhancernet import OneHotAdapter
    from enhancer_tools.models.token_adapter import TokenAdapter

    if isinstance(scorer.adapter, OneHotAdapter):
        method = _onehot_ig
    elif isinstance(scorer.adapter, TokenAdapter):
        method = _token_ig
    else:
        raise UserError(f"no gradient attributions for inputs of {type(scorer.adapter).__name__}")
    if not seqs:
        return []
    model = scorer.model
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            return method(model, scorer.adapter, list(seqs), steps, rows, scorer.device, readout)
    finally:
        model.train(was_training)
