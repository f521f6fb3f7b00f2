"""Kind ``kmer``: logistic regression on canonical k-mer frequencies, the floor every model must
beat (features and fitting in ``models.kmer``). Fitted in one call, not by the torch loop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enhancer_tools.models.kind import DirectFit, ModelExport, ModelKind

log = logging.getLogger(__name__)

C_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class KmerHyperparameters:
    """k-mer lengths, the inverse regularisation strengths tried (best validation PR-AUC wins),
    and whether both classes weigh equally in the loss."""

    k: tuple[int, ...] = (3, 4, 5, 6)
    c_grid: tuple[float, ...] = C_GRID
    class_weights: bool = False


def _fit(hp: KmerHyperparameters, train_seqs: Sequence[str], train_labels: np.ndarray, val_seqs: Sequence[str],
         val_labels: np.ndarray, seed: int) -> DirectFit:
    from enhancer_tools.models.kmer import fit_kmer, model_config

    grid = list(hp.c_grid)
    scorer, c, table = fit_kmer(train_seqs, train_labels, val_seqs, val_labels, hp.k, grid, hp.class_weights)
    if len(grid) > 1 and c in (min(grid), max(grid)):
        log.warning("the best C (%g) is at the edge of --c-grid; a wider grid may do better", c)
    export = ModelExport(config=model_config(scorer, c),
                         tensors={"coef": scorer.coef, "intercept": np.array([scorer.intercept])})
    metrics = {"regularisation": table, "hyperparameters": {"k": list(hp.k), "C": c, "class_weights": hp.class_weights},
               "features": scorer.features.n_features}
    return DirectFit(scorer, export, metrics)


def _load(directory: str, info: dict, config: dict, device: str, precision: str):
    from enhancer_tools.models.kmer import load_scorer

    return load_scorer(directory, config)


KIND = ModelKind(name="kmer", hyperparameters=KmerHyperparameters, load=_load, fit=_fit)
