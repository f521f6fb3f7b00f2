"""The settings of a ``dnabert2-pretrain`` run, apart from the loop so that the CLI's --help reads
their defaults without importing torch or the trainer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PretrainSettings:
    """The optimisation settings of a pretraining run (the CLI's options)."""

    max_tokens: int = 232
    mask_prob: float = 0.15
    batch_size: int = 32
    grad_accum: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_grad_norm: float = 1.0
    steps: int = 0  # 0: run `epochs` passes over the training tiles
    epochs: int = 1
    eval_every: int = 500
    checkpoint_every: int = 0  # 0: at each validation
    precision: str = "auto"
    rc_augment: bool = True
    val_max_tiles: int = 2000
    eval_batch_size: int = 0  # 0: 2 x batch_size
