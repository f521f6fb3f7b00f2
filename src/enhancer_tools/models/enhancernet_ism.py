"""Saturation mutagenesis of an EnhancerNet by recomputing only what a substitution changes.

A substitution at input position p changes the first convolution's output only within its
kernel's reach of p, the pooled map only over the pooling windows that touch that stretch, and
so on: after three Conv -> BatchNorm -> ReLU -> MaxPool blocks, a handful of the final map's
positions. Each block is therefore run on a short window around the changed stretch, taken
from the reference sequence's own activations with the changed values spliced in; the dense
head then sees the reference's final map with the changed positions replaced. This is the
idea of fastISM (Nair et al. 2022, also tangermeme's default), written for this one
architecture so that the numbers equal scoring every mutant in full (same model, same
arithmetic up to float rounding; ``tests/test_enhancernet_ism.py`` checks it).

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
        as ``logits`` gives them for each mutant sequence. Bases the model's window leaves out (a sequence
        longer than the width is centre-cropped) keep the reference's log-odds."""
        from enhancer_tools.models.precision import autocast

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
            with torch.inference_mode(), autocast(self.precision, self.device):
                ref = float(net(x[None]).float()[0])
                pos = torch.as_tensor(at[edit], device=self.device)
                alts = torch.eye(4, device=self.device)[torch.as_tensor(base[edit], device=self.device)]
                z = _mutant_logodds(net, x, pos, alts, batch_size) if edit.any() else []
        finally:
            net.train(was_training)
        out = np.full((4, end - start), ref, dtype=np.float64)
        out[base[edit], rel[edit]] = z
        return ref, out


def _blocks(net) -> list[tuple[nn.Conv1d, nn.Module, int]]:
    """(conv, batchnorm + relu, pool size) of each feature block."""
    layers = list(net.features)
    blocks = []
    for i in range(0, len(layers), 4):
        conv, bn, relu, pool = layers[i:i + 4]
        blocks.append((conv, nn.Sequential(bn, relu), int(pool.kernel_size)))
    return blocks


def _mutant_logodds(net, x: torch.Tensor, positions: torch.Tensor, alts: torch.Tensor, batch_size: int) -> np.ndarray:
    """Log-odds of ``x`` [4, W] with base ``alts[i]`` (one-hot row) at ``positions[i]``, as the
    model's forward gives them (both strands averaged when it shares weights across strands)."""
    forward = _activations(net, x)
    if net.config.rc_share:  # the reverse strand: flipped positions, complemented bases (ACGT -> TGCA)
        reverse = _activations(net, torch.flip(x, dims=(0, 1)))
    outs = []
    for i in range(0, len(positions), batch_size):
        pos, alt = positions[i:i + batch_size], alts[i:i + batch_size]
        z = _strand_scores(net, forward, pos, alt)
        if net.config.rc_share:
            z = 0.5 * (z + _strand_scores(net, reverse, x.shape[1] - 1 - pos, torch.flip(alt, dims=(1,))))
        outs.append(z.float().cpu().numpy())
    return np.concatenate(outs).astype(np.float64)


def _activations(net, x: torch.Tensor) -> list[torch.Tensor]:
    """The input [4, W] and each feature block's output for one unmutated sequence."""
    refs, h = [x], x[None]
    for conv, act, pool in _blocks(net):
        h = nn.functional.max_pool1d(act(conv(h)), pool)
        refs.append(h[0])
    return refs


def _strand_scores(net, refs: list[torch.Tensor], pos: torch.Tensor, alt: torch.Tensor) -> torch.Tensor:
    """``net.score`` of each mutant of one strand (``refs``: its ``_activations``), recomputing
    only windows around the change."""
    device = refs[0].device
    m = len(pos)
    start, values = pos, alt[:, :, None]  # changed stretch [start, start + n) and its values [m, C, n]
    for (conv, act, pool), ref in zip(_blocks(net), refs[:-1]):
        k, pad = conv.kernel_size[0], conv.padding[0]
        n = values.shape[2]
        n_out = (n + k - 1 + pool - 2) // pool + 1  # pooled positions any alignment can touch
        first = torch.div(start - pad, pool, rounding_mode="floor")  # first pooled position touched
        span = pool * n_out + k - 1  # block input the window needs
        lo = pool * first - pad
        margin = span + k + pool
        padded = nn.functional.pad(ref, (margin, margin))
        index = (lo + margin)[:, None] + torch.arange(span, device=device)
        window = padded[:, index].permute(1, 0, 2).contiguous()  # [m, C, span]
        splice = (start - lo)[:, None, None] + torch.arange(n, device=device)
        window.scatter_(2, splice.expand(m, window.shape[1], n), values)
        h = nn.functional.conv1d(window, conv.weight, conv.bias)
        values = nn.functional.max_pool1d(act(h), pool)
        start = first
        real = ref.shape[1] // pool  # length of this block's output
        where = start[:, None] + torch.arange(n_out, device=device)
        values = values * ((where >= 0) & (where < real))[:, None, :].to(values.dtype)
    final = refs[-1]
    n = values.shape[2]
    margin = n
    full = nn.functional.pad(final, (margin, margin)).expand(m, -1, -1).clone()
    splice = (start + margin)[:, None, None] + torch.arange(n, device=device)
    full.scatter_(2, splice.expand(m, full.shape[1], n), values)
    return net.head(full[:, :, margin:margin + final.shape[1]]).squeeze(1)
