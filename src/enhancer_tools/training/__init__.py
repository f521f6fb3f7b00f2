"""Shared training machinery for every model kind: data, trainer loop, calibration, Optuna search."""
