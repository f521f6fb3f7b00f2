"""Scores of a binary classifier: metrics (PR-AUC, ROC-AUC, best F1) and calibration (temperature
and threshold). Neutral ground below the models, the trainers and the report, which all use it."""
