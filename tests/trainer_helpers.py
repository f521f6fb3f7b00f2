"""Shared set-up for the trainer tests: a tiny EnhancerNet family on synthetic data."""

from __future__ import annotations

from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.models.enhancernet import HYPERPARAMETERS, family
from enhancer_tools.training.fit import FitRequest, fit

TINY = {**HYPERPARAMETERS, "epochs": 2, "batch_size": 16, "base_channels": 8, "dense": 8, "width": 80,
        "learning_rate": 3e-3, "patience": 5}


def run_fit(train, val, output, **request):
    """fit() on the tiny EnhancerNet; returns (run info, metrics)."""
    params = {**TINY, **request.pop("params", {})}
    run = RunInfo("enhancernet-train")
    metrics = fit(run, family(), FitRequest(train=str(train), val=str(val), output=str(output), params=params,
                                           device="cpu", **request))
    return run, metrics
