"""EnhancerNet: a small convolutional classifier of one-hot DNA (the study's CNN comparator).

Design (Basset/DeepSEA family): ``len(channels)`` blocks of Conv1d -> BatchNorm -> ReLU ->
MaxPool, then dropout, a dense ReLU layer, dropout and one output unit (the positive-class
log-odds). With ``rc_share`` the same weights score the sequence and its reverse complement
and the two log-odds are averaged, so the model is strand-symmetric. With ``shift`` s > 0, each
training sequence is moved by a random offset in [-s, s] bp (zero-filled, like padding) at every
forward pass in training mode (jitter augmentation); scoring (eval mode) never shifts. With
``replicates`` n > 1 the model is n such networks trained apart (seeds s, s+1, ...) and scored by
their mean log-odds: a deep ensemble in one model directory.

One-hot input [B, 4, width], channel order A, C, G, T: N and the other IUPAC ambiguity codes
are 0.25 in each channel (unknown base); positions outside a shorter sequence are all zeros.
Sequences longer than ``width`` are centre-cropped, shorter ones centre-padded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

_CODE = np.full(256, 4, dtype=np.uint8)  # anything not ACGT: an unknown base
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
_PAD = 5
# Row per code: A, C, G, T, unknown base (0.25 each), padding (zeros).
_ONE_HOT = np.vstack([np.eye(4), np.full((1, 4), 0.25), np.zeros((1, 4))]).astype(np.float32)

DEFAULTS = {"channels": [64, 96, 128], "kernel_sizes": [15, 9, 5], "pool": 4, "dense": 64, "dropout": 0.3,
            "rc_share": True, "shift": 10}


@dataclass
class EnhancerNetConfig:
    """Architecture of an EnhancerNet (saved as config.json)."""

    width: int = 1000
    channels: list[int] = field(default_factory=lambda: list(DEFAULTS["channels"]))
    kernel_sizes: list[int] = field(default_factory=lambda: list(DEFAULTS["kernel_sizes"]))
    pool: int = 4
    dense: int = 64
    dropout: float = 0.3
    rc_share: bool = True
    shift: int = 10  # training-time jitter in bp (config.json without it: 0, as those models were trained)
    replicates: int = 1  # networks averaged (config.json without it: one)

    @classmethod
    def from_dict(cls, d: Mapping) -> "EnhancerNetConfig":
        known = set(cls.__dataclass_fields__)
        d = {"shift": 0, **d}  # written before the shift option: trained without it
        cfg = cls(**{k: v for k, v in d.items() if k in known})
        if len(cfg.channels) != len(cfg.kernel_sizes) or not cfg.channels:
            raise ValueError("channels and kernel_sizes need the same, non-zero, length")
        if cfg.replicates < 1:
            raise ValueError("replicates must be at least 1")
        return cfg

    def as_dict(self) -> dict:
        return {"model_type": "enhancernet", **asdict(self)}


class OneHotAdapter:
    """Task adapter: sequences -> uint8 base codes [n, width] -> float one-hot batches."""

    def __init__(self, width: int) -> None:
        self.width = width

    def encode(self, seqs: Sequence[str]) -> np.ndarray:
        out = np.full((len(seqs), self.width), _PAD, dtype=np.uint8)
        for row, seq in enumerate(seqs):
            codes = _CODE[np.frombuffer(seq.upper().encode("ascii"), dtype=np.uint8)]
            if len(codes) >= self.width:
                start = (len(codes) - self.width) // 2
                out[row] = codes[start:start + self.width]
            else:
                start = (self.width - len(codes)) // 2
                out[row, start:start + len(codes)] = codes
        return out

    def lengths(self, items) -> None:
        return None

    def collate(self, items) -> dict:
        onehot = _ONE_HOT[np.asarray(items)]  # [B, width, 4]
        return {"x": torch.from_numpy(np.ascontiguousarray(onehot.transpose(0, 2, 1)))}


def min_width(config: EnhancerNetConfig) -> int:
    """The shortest input that survives every pooling step."""
    return config.pool ** len(config.channels)


class EnhancerNet(nn.Module):
    """Conv blocks -> dense head -> one log-odds per sequence; input ``x`` [B, 4, width]."""

    def __init__(self, config: EnhancerNetConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in = 4
        for c, k in zip(config.channels, config.kernel_sizes):
            layers += [nn.Conv1d(c_in, c, k, padding=k // 2), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(config.pool)]
            c_in = c
        self.features = nn.Sequential(*layers)
        if config.width < min_width(config):
            raise ValueError(f"width {config.width} is too short for {len(config.channels)} pooling blocks "
                             f"(at least {min_width(config)} bp)")
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 4, config.width)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(n_flat, config.dense), nn.ReLU(),
                                  nn.Dropout(config.dropout), nn.Linear(config.dense, 1))

    def jitter(self, x: torch.Tensor) -> torch.Tensor:
        """Each sequence moved by its own random offset in [-shift, shift], zero-filled (global RNG)."""
        s = int(self.config.shift)
        batch, channels, width = x.shape
        padded = nn.functional.pad(x, (s, s))
        offsets = torch.randint(0, 2 * s + 1, (batch, 1), device=x.device)
        index = (offsets + torch.arange(width, device=x.device)).unsqueeze(1).expand(batch, channels, width)
        return padded.gather(2, index)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.config.shift > 0:
            x = self.jitter(x)
        if self.config.rc_share:
            # Flipping channels (A,C,G,T -> T,G,C,A) and positions is the reverse complement.
            return 0.5 * (self.score(x) + self.score(torch.flip(x, dims=(1, 2))))
        return self.score(x)


class EnhancerNetReplicates(nn.Module):
    """``config.replicates`` EnhancerNets, each trained on its own (``training.fit``: its own seed,
    batch order and early stopping), scored by their mean log-odds."""

    def __init__(self, config: EnhancerNetConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(EnhancerNet(config) for _ in range(config.replicates))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members], dim=1).mean(1)


def build(config: EnhancerNetConfig) -> nn.Module:
    """The network ``config`` describes: one EnhancerNet, or replicates averaged."""
    return EnhancerNetReplicates(config) if config.replicates > 1 else EnhancerNet(config)
