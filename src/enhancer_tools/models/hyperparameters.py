"""Typed hyperparameters: the training settings every torch model shares, and the helpers that
apply a user's or a search's values to a kind's hyperparameter dataclass.

Each model kind defines one frozen dataclass (``models.kinds.<kind>``): its defaults are the
field defaults, its Optuna search space a plain dict (see ``training.hpo``). Names say their
unit where one could be misread: ``max_tokens`` (DNABERT-2 tokens, [CLS] and [SEP] included),
``width_bp`` (base pairs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

H = TypeVar("H")

# Names older model directories and checkpoints used (provenance.json training_args).
RENAMED = {"max_length": "max_tokens", "width": "width_bp"}
SCHEDULERS = ("linear", "cosine", "constant")  # the learning rate after warmup (training.trainer.lr_schedule)
COSINE_FLOOR = 0.1  # the cosine schedule ends at this share of the peak learning rate


@dataclass(frozen=True)
class TrainingSettings:
    """Optimisation settings shared by every torch model (the trainer reads these fields)."""

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    scheduler: str = "linear"  # after warmup: linear decay to 0, cosine decay to a floor, or constant
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    rc_augment: bool = False
    class_weights: bool = False
    patience: int = 3
    eval_every: int = 0  # optimizer steps between validations; 0 = once per epoch
    checkpoint_every: int = 0  # optimizer steps between checkpoints; 0 = at each validation
    precision: str = "auto"  # see models.precision
    num_workers: int = 0
    eval_batch_size: int = 0  # 0 = 2 x batch_size
    bucket_batches: int = 50  # length bucketing sorts pools of this many batches


def names(cls: type) -> list[str]:
    """The field names of a hyperparameter dataclass."""
    return [f.name for f in dataclasses.fields(cls)]


def _coerce(default: Any, value: Any) -> Any:
    if value is None or default is None:
        return value
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, (int, float)) and not isinstance(value, bool):
        return type(default)(value)
    if isinstance(default, tuple):
        return tuple(value)
    return value


def with_values(hp: H, values: Mapping[str, Any]) -> H:
    """``hp`` with ``values`` applied (numbers coerced to the field's type, lists to tuples);
    an unknown name is a ValueError, so a misspelt search-space entry cannot pass silently."""
    known = set(names(type(hp)))
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dataclasses.replace(hp, **{k: _coerce(getattr(hp, k), v) for k, v in values.items()})


def as_dict(hp) -> dict:
    """The hyperparameters as a flat dict (provenance, run info, checkpoint fingerprints)."""
    return {f.name: getattr(hp, f.name) for f in dataclasses.fields(hp)}


def from_record(cls: type[H], record: Mapping[str, Any], base: H | None = None) -> H:
    """Rebuild hyperparameters from a provenance ``training_args`` record, old names included;
    keys that are not fields (seed, device) are ignored."""
    values = {RENAMED.get(k, k): v for k, v in record.items()}
    fields = set(names(cls))
    return with_values(base if base is not None else cls(), {k: v for k, v in values.items() if k in fields})
