"""Shared set-up for the trainer tests: a tiny EnhancerNet on synthetic data."""

from __future__ import annotations

from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.models.hyperparameters import with_values
from enhancer_tools.models.kinds.enhancernet import EnhancerNetHyperparameters
from enhancer_tools.models.registry import kind
from enhancer_tools.training.fit import FitRequest, fit

# replicates 1: these tests are about one training run (test_enhancernet_replicates.py covers several)
TINY = {"epochs": 2, "batch_size": 16, "base_channels": 8, "dense": 8, "width_bp": 80, "learning_rate": 3e-3,
        "patience": 5, "replicates": 1}


def run_fit(train, val, output, **request):
    """fit() on the tiny EnhancerNet; ``params`` override TINY; returns (run info, metrics)."""
    hp = with_values(EnhancerNetHyperparameters(), {**TINY, **request.pop("params", {})})
    run = RunInfo("enhancernet-train")
    metrics = fit(run, FitRequest(kind=kind("enhancernet"), hyperparameters=hp, train=str(train), val=str(val),
                                  output=str(output), device="cpu", **request))
    return run, metrics
