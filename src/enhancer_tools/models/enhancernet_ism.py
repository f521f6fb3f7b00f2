"""Saturation mutagenesis of an EnhancerNet by recomputing only what a substitution changes.

A substitution at input position p changes the first convolution's output only within its
kernel's reach of p, the pooled map only over the pooling windows that touch that stretch, and
so on: after three Conv -> BatchNorm -> ReLU -> MaxPool blocks, a handful of the final map's
positions. Convolution is linear, so each block's mutant convolution is the reference's plus
the convolution of the change of its input, which is non-zero on a few positions only
(``conv_transpose1d`` of the change: work in proportion to those positions); BatchNorm (eval
mode, an affine map per channel) is folded into the convolution's weights; ReLU and max-pooling
then run on the pooling windows the change touches. The dense head sees the reference's final
map with those positions replaced. This is the idea of fastISM (Nair et al. 2022, also
tangermeme's default), written for this one architecture so that the numbers equal scoring
every mutant in full (up to float rounding; ``tests/test_enhancernet_ism.py`` checks it).

Windows have one fixed length per block (the longest any alignment to the pooling grid
needs), so all mutants of a batch share one tensor shape; positions outside the real map
are held at zero, which is what the layers' zero padding gives the full forward pass.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from enhancer_tools.models.scorer import TorchScorer

_BASES = "ACGT"


class EnhancerNetScorer(TorchScorer):
    """TorchScorer of an EnhancerNet, with the receptive-field shortcut for ISM."""

    def substitution_logodds(self, seq: str, start: int, end: int, batch_size: int = 1024) -> tuple[float, np.ndarray]:
        """The raw log-odds of ``seq`` and of every single-base substitution of ``seq[start:end]``
        ([4, end - start], A, C, G, T; the reference base's entry is the reference's own log-odds),
        as ``logits`` gives them for each mutant sequence in fp32. Bases the model's window leaves
        out (a sequence longer than the width is centre-cropped) keep the reference's log-odds.
        Always fp32, whatever the scorer's precision: each block's small change is added to the
        reference's activations, and bf16 would round much of it away."""
        net, seq = self.model, seq.upper()
        width = net.config.width
        x = self.adapter.collate(self.adapter.encode([seq]))["x"][0].to(self.device)
        # Where the adapter put seq's bases in the model's window (centre crop or centre padding).
        shift = (width - len(seq)) // 2 if len(seq) < width else -((len(seq) - width) // 2)
        rel, base = np.meshgrid(np.arange(end - start), np.arange(4), indexing="ij")
        rel, base = rel.ravel(), base.ravel()
        ref_base = np.array([_BASES.find(c) for c in seq[start:end]])
        at = rel + start + shift
        edit = (base != ref_base[rel]) & (at >= 0) & (at < width)

        was_training = net.training
        net.eval()
        try:
            with torch.inference_mode():
                ref = float(net(x[None]).float()[0])
                pos = torch.as_tensor(at[edit], device=self.device)
                alts = torch.eye(4, device=self.device)[torch.as_tensor(base[edit], device=self.device)]
                # replicates: the mean of each network's log-odds, as their forward gives
                nets = getattr(net, "members", [net])
                z = np.mean([_mutant_logodds(n, x, pos, alts, batch_size) for n in nets], axis=0) if edit.any() else []
        finally:
            net.train(was_training)
        out = np.full((4, end - start), ref, dtype=np.float64)
        out[base[edit], rel[edit]] = z
        return ref, out


def _blocks(net) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """(weight, bias, pool size) of each feature block, its eval-mode BatchNorm folded into the
    convolution (an affine map per channel), so a block is conv -> ReLU -> max-pool."""
    layers = list(net.features)
    blocks = []
    for i in range(0, len(layers), 4):
        conv, bn, _, pool = layers[i:i + 4]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        blocks.append((conv.weight * scale[:, None, None], (bias - bn.running_mean) * scale + bn.bias,
                       int(pool.kernel_size)))
    return blocks


def _mutant_logodds(net, x: torch.Tensor, positions: torch.Tensor, alts: torch.Tensor, batch_size: int) -> np.ndarray:
    """Log-odds of ``x`` [4, W] with base ``alts[i]`` (one-hot row) at ``positions[i]``, as the
    model's forward gives them (both strands averaged when it shares weights across strands)."""
    blocks = _blocks(net)
    forward = _activations(blocks, x)
    if net.config.rc_share:  # the reverse strand: flipped positions, complemented bases (ACGT -> TGCA)
        reverse = _activations(blocks, torch.flip(x, dims=(0, 1)))
    outs = []
    for i in range(0, len(positions), batch_size):
        pos, alt = positions[i:i + batch_size], alts[i:i + batch_size]
        z = _strand_scores(net, blocks, forward, pos, alt)
        if net.config.rc_share:
            z = 0.5 * (z + _strand_scores(net, blocks, reverse, x.shape[1] - 1 - pos, torch.flip(alt, dims=(1,))))
        outs.append(z.float().cpu().numpy())
    return np.concatenate(outs).astype(np.float64)


def _activations(blocks: list, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(block input [C, L], its convolution [C', L]) of each feature block, then (final map, None),
    for one unmutated sequence ``x`` [4, W]."""
    out, h = [], x
    for weight, bias, pool in blocks:
        y = nn.functional.conv1d(h[None], weight, bias, padding=weight.shape[2] // 2)[0]
        out.append((h, y))
        h = nn.functional.max_pool1d(torch.relu(y[None]), pool)[0]
    return [*out, (h, None)]


def _window(ref: torch.Tensor, first: torch.Tensor, length: int) -> torch.Tensor:
    """[m, C, length]: ``ref`` [C, L] at positions first[i] + 0..length-1, zero outside [0, L)."""
    margin = length + int(first.abs().max()) if len(first) else 0
    slabs = nn.functional.pad(ref, (margin, margin)).unfold(1, length, 1).transpose(0, 1)  # a view [L', C, length]
    return slabs.index_select(0, first + margin)


def _strand_scores(net, blocks: list, refs: list, pos: torch.Tensor, alt: torch.Tensor) -> torch.Tensor:
    """``net.score`` of each mutant of one strand (``blocks``: ``_blocks(net)``; ``refs``: the
    strand's ``_activations``; see the module docstring)."""
    start = pos  # changed stretch [start, start + n) of the block input
    delta = alt[:, :, None] - _window(refs[0][0], pos, 1)  # its change [m, C, n]
    for (weight, _, pool), (_, conv_out), (next_in, _) in zip(blocks, refs[:-1], refs[1:]):
        k = weight.shape[2]
        pad = k // 2
        n = delta.shape[2]
        changed = nn.functional.conv_transpose1d(delta, weight.transpose(0, 1).flip(2))  # [m, C', n + k - 1]
        first = torch.div(start - pad, pool, rounding_mode="floor")  # first pooled position touched
        n_out = (n + k - 1 + pool - 2) // pool + 1  # pooled positions any alignment can touch
        mutant = _window(conv_out, pool * first, pool * n_out)
        offset = (start - pad - pool * first)[:, None, None] + torch.arange(n + k - 1, device=pos.device)
        mutant.scatter_add_(2, offset.expand(-1, mutant.shape[1], -1), changed)
        values = nn.functional.max_pool1d(torch.relu(mutant), pool)
        real = conv_out.shape[1] // pool
        where = first[:, None] + torch.arange(n_out, device=pos.device)
        values = values * ((where >= 0) & (where < real))[:, None, :].to(values.dtype)
        start = first
        delta = values - _window(next_in, first, n_out)
    final = refs[-1][0]
    n = delta.shape[2]
    margin = n + int(start.abs().max())
    full = nn.functional.pad(final, (margin, margin)).expand(len(pos), -1, -1).clone()
    index = (start + margin)[:, None, None] + torch.arange(n, device=pos.device)
    full.scatter_add_(2, index.expand(-1, full.shape[1], -1), delta)
    return net.head(full[:, :, margin:margin + final.shape[1]]).squeeze(1)
