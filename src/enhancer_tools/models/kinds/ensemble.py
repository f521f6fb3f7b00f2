"""Kind ``ensemble``: member models stacked by a logistic regression on their calibrated
validation log-odds (``models.ensemble``; fitted by ``training.ensemble``, the model-ensemble
tool). Its model directory holds the members, which are loaded through the registry."""

from __future__ import annotations

from dataclasses import dataclass

from enhancer_tools.models.ensemble import DEFAULT_C, DEFAULT_FOLDS, KIND_NAME
from enhancer_tools.models.kind import ModelKind


@dataclass(frozen=True)
class EnsembleHyperparameters:
    """Cross-fitting folds inside the validation set and the stacker's inverse L2 strength."""

    folds: int = DEFAULT_FOLDS
    C: float = DEFAULT_C


def _load(directory: str, info: dict, config: dict, device: str, precision: str, load_member=None):
    from enhancer_tools.models.ensemble import load_ensemble

    return load_ensemble(directory, config, device, precision, load_member)


KIND = ModelKind(name=KIND_NAME, hyperparameters=EnsembleHyperparameters, load=_load, loads_members=True)
