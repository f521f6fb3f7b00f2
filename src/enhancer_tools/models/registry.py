"""The registry of model kinds, and loading any model directory through it.

The kinds are the modules of ``models.kinds`` (each defines ``KIND``); they are found by listing
that package, so adding a kind is adding a module there. Tools (training, score-regions, the
report, the later tools) reach a kind only through ``kind(name)`` and ``load_model``.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.metrics.calibration import Calibration
from enhancer_tools.models import kinds as _kinds_package
from enhancer_tools.models.kind import ModelKind
from enhancer_tools.models.modeldir import (
    CONFIG_JSON,
    MODEL_JSON,
    PROVENANCE_JSON,
    read_calibration,
    read_json,
    read_model_info,
)
from enhancer_tools.models.precision import resolve_device


@functools.cache
def all_kinds() -> dict[str, ModelKind]:
    """Every registered kind, by name."""
    found: dict[str, ModelKind] = {}
    for module_info in pkgutil.iter_modules(_kinds_package.__path__):
        module = importlib.import_module(f"{_kinds_package.__name__}.{module_info.name}")
        declared = getattr(module, "KIND", None)
        if not isinstance(declared, ModelKind):
            raise TypeError(f"{module.__name__} defines no KIND (a models.kind.ModelKind)")
        if declared.name in found:
            raise TypeError(f"two modules declare the model kind {declared.name!r}")
        found[declared.name] = declared
    return found


def kind(name: str) -> ModelKind:
    """The kind called ``name``; UserError naming the known kinds otherwise."""
    kinds = all_kinds()
    if name not in kinds:
        raise UserError(f"unknown model kind {name!r}; known: {', '.join(sorted(kinds))}")
    return kinds[name]


@dataclass
class LoadedModel:
    """A model read from a model directory, ready to score sequences (see ``models.scorer``)."""

    kind: str
    path: str
    info: dict
    config: dict
    calibration: Calibration
    window: dict | None
    max_tokens: int | None
    scorer: Any = field(repr=False)
    provenance: dict | None = None

    def logits(self, seqs: Sequence[str], batch_size: int = 64):
        """Positive-class log-odds (numpy float64 [n]) before temperature; sequences are
        upper-cased by the model."""
        import numpy as np

        if len(seqs) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.scorer.logits(list(seqs), batch_size)

    def probability(self, logodds):
        """Calibrated probability sigmoid(logodds / temperature)."""
        return self.calibration.probability(logodds)

    def call(self, logodds):
        """Boolean calls: calibrated probability >= threshold."""
        return self.probability(logodds) >= self.calibration.threshold


def load_model(path: str | os.PathLike, device: str = "cpu", precision: str = "fp32") -> LoadedModel:
    """Read any model directory: its kind from model.json, then that kind's loader.

    ``precision`` (see ``models.precision``) is what torch kinds score under."""
    path = os.fspath(path)
    info = read_model_info(path)
    if info["kind"] not in all_kinds():
        raise UserError(f"model.json names an unknown kind {info['kind']!r}; known: {', '.join(sorted(all_kinds()))}",
                        os.path.join(path, MODEL_JSON))
    model_kind = all_kinds()[info["kind"]]
    config_path = os.path.join(path, CONFIG_JSON)
    if not os.path.exists(config_path):
        raise UserError(f"model directory has no {CONFIG_JSON}", path)
    config = read_json(config_path)
    prov_path = os.path.join(path, PROVENANCE_JSON)
    prov = read_json(prov_path) if os.path.exists(prov_path) else None
    member_loader = {"load_member": load_model} if model_kind.loads_members else {}
    scorer = model_kind.load(path, info, config, resolve_device(device), precision, **member_loader)
    max_tokens = info.get("max_tokens") or getattr(scorer, "max_tokens", None)
    return LoadedModel(info["kind"], path, info, config, read_calibration(path), info.get("window"), max_tokens,
                       scorer, prov)
