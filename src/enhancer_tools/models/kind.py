"""What a model kind is: the record each module in ``models.kinds`` fills in and the registry
(``models.registry``) finds. Every tool reaches a kind only through that record.

A kind either trains with the shared torch loop (``build`` + ``adapter`` + ``export``) or fits
itself in one call (``fit``, e.g. the k-mer logistic regression). Either way the training
library calibrates on validation and writes the same model-directory layout.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelExport:
    """What goes into a model directory besides calibration and provenance."""

    config: dict
    tensors: dict
    window: dict | None = None  # {"width": bp, ...}: the windows the model was trained on
    max_tokens: int | None = None  # token models only
    tokenizer: str | None = None  # a tokenizer.json to copy in
    info: dict = field(default_factory=dict)  # more model.json keys


@dataclass
class DirectFit:
    """The result of a kind's one-call ``fit``: a scorer (``logits(seqs, batch_size)``), what to
    save, and kind-specific metrics for the run info."""

    scorer: Any
    export: ModelExport
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelKind:
    """One model kind, as ``models.kinds.<name>`` declares it.

    - ``hyperparameters``: the frozen dataclass of its hyperparameters (defaults = field defaults);
    - ``search_space(hp)``: the default Optuna space for a run starting from ``hp``;
    - ``load(directory, info, config, device, precision)``: a scorer of a saved model (see
      ``models.scorer``), given model.json ``info`` and config.json ``config``;
    - torch kinds: ``build(hp)`` a new nn.Module (the global torch RNG is seeded just before),
      ``adapter(hp, cache_dir)`` its TaskAdapter, ``export(model, hp)`` a ModelExport,
      ``encoding_key(hp)`` the settings that change the encoding (encodings are reused across
      trials with the same key);
    - one-call kinds: ``fit(hp, train_seqs, train_labels, val_seqs, val_labels, seed)`` a DirectFit;
    - ``combine(hp, states)``: torch kinds whose hyperparameters have ``replicates`` n > 1: the one
      model made of n networks trained apart (``training.fit``), given each one's state dict;
    - ``loads_members``: the kind's model directory holds other model directories (an ensemble);
      ``load`` then also gets ``load_member``, the registry's ``load_model`` (a kind module may
      not import the registry: that would be a cycle).
    """

    name: str
    hyperparameters: type
    load: Callable[..., Any]
    search_space: Callable[[Any], dict] = lambda hp: {}
    build: Callable[[Any], Any] | None = None
    adapter: Callable[[Any, str | None], Any] | None = None
    export: Callable[[Any, Any], ModelExport] | None = None
    encoding_key: Callable[[Any], Hashable] = lambda hp: None
    fit: Callable[[Any, Sequence[str], Any, Sequence[str], Any, int], DirectFit] | None = None
    combine: Callable[[Any, list[dict]], Any] | None = None
    loads_members: bool = False

    @property
    def trains_with_torch(self) -> bool:
        """Whether the shared torch training loop trains this kind."""
        return self.build is not None
