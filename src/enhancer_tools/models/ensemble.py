"""Stacked ensembles: member models combined by a logistic regression on their calibrated log-odds.

The feature of member i for a sequence is its calibrated log-odds ``z_i / T_i`` (raw log-odds
over the member's own calibration temperature, fixed when the ensemble was fitted), so every
member enters on the scale of a probability it states, and a weight of 1 on one member alone
reproduces that member's calibrated probability. The ensemble's raw log-odds are

    z = intercept + sum_i w_i * z_i / T_i

and the ensemble has its own temperature and threshold on top, like any model. ``z`` is linear
in the members' log-odds, so score-regions' strand averaging (the mean of both strands' log-odds)
of the ensemble is the same stack of each member's strand-averaged log-odds: the members keep
their own reverse-complement behaviour. The stack is fitted on those strand-averaged log-odds of
the validation set, the scores the trainers validate on and score-regions gives by default.

``fit_stack`` cross-fits the stack inside the validation set (stratified folds): every record
gets an out-of-fold stacked log-odds from a regression that never saw it, and those are what
the ensemble's validation metrics, temperature and threshold are chosen on; the final weights are
fitted on the whole validation set.

The ensemble's model directory holds its members (``members/<n>-<name>/``), so one folder, or one
zip in Galaxy, carries everything. ``config.json`` lists the members (name, kind, folder, weight,
temperature) and the stacking settings; ``model.safetensors`` holds ``weights`` [m] and
``intercept`` [1].
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError

KIND_NAME = "ensemble"
MEMBERS_FOLDER = "members"
DEFAULT_FOLDS = 5
DEFAULT_C = 1.0
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")


def member_folder(index: int, name: str) -> str:
    """The folder of member ``index`` (1-based) inside the ensemble: ``members/<n>-<name>``."""
    return f"{MEMBERS_FOLDER}/{index}-{_NAME_CHARS.sub('_', name).strip('_') or 'model'}"


class EnsembleScorer:
    """Scores sequences with every member and stacks their calibrated log-odds (see the module
    docstring). ``members`` are loaded models (``registry.LoadedModel``); ``temperatures`` the
    member temperatures the stack was fitted with."""

    def __init__(self, members: Sequence, temperatures: Sequence[float], weights: np.ndarray,
                 intercept: float, device: str = "cpu", precision: str = "fp32") -> None:
        self.members = list(members)
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = float(intercept)
        self.device, self.precision = device, precision

    def encode(self, seqs: Sequence[str]) -> list:
        """Each member's own encoding of the batch (thread-safe: each member's ``encode`` is)."""
        return [m.scorer.encode(seqs) for m in self.members]

    def stack(self, member_logodds: np.ndarray) -> np.ndarray:
        """Ensemble log-odds from raw member log-odds [n, m]."""
        return self.intercept + (member_logodds / self.temperatures) @ self.weights

    def logodds(self, encoded: list) -> np.ndarray:
        """Ensemble log-odds of one encoded batch."""
        return self.stack(np.column_stack([m.scorer.logodds(e) for m, e in zip(self.members, encoded)]))

    def member_logits(self, seqs: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw member log-odds [n, m], each member batching in its own way."""
        return np.column_stack([m.logits(seqs, batch_size) for m in self.members])

    def logits(self, seqs: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Ensemble log-odds of ``seqs`` in batches of ``batch_size``."""
        return self.stack(self.member_logits(seqs, batch_size))


class GradientEnsembleScorer(EnsembleScorer):
    """An ensemble whose members all have gradients: integrated gradients are linear in the
    function explained, so the ensemble's attribution is the weighted sum of the members'
    (each from its own baseline), on the ensemble's raw log-odds scale."""

    def integrated_gradients(self, seqs: Sequence[str], steps: int = 32, batch_size: int = 64) -> list:
        """One ``models.attribution.Attribution`` per sequence (no per-token values)."""
        from enhancer_tools.models.attribution import Attribution

        scale = self.weights / self.temperatures
        per_member = [m.scorer.integrated_gradients(seqs, steps, batch_size) for m in self.members]
        out = []
        for row in zip(*per_member):
            values = sum(s * a.values for s, a in zip(scale, row))
            hypothetical = sum(s * a.hypothetical for s, a in zip(scale, row))
            out.append(Attribution(np.asarray(values), np.asarray(hypothetical)))
        return out


def has_gradients(scorer) -> bool:
    """Whether a scorer offers integrated gradients."""
    return callable(getattr(scorer, "integrated_gradients", None))


@dataclass
class StackFit:
    """A fitted stack: final weights and intercept (all of validation), the out-of-fold stacked
    log-odds of every record, the in-sample ones of the final fit, and each record's fold."""

    weights: np.ndarray
    intercept: float
    oof_logodds: np.ndarray
    in_sample_logodds: np.ndarray
    fold: np.ndarray


def _regression(features: np.ndarray, labels: np.ndarray, c: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(features, labels)


def check_folds(labels: np.ndarray, folds: int) -> None:
    """UserError unless every one of ``folds`` stratified folds can hold both classes."""
    labels = np.asarray(labels, dtype=np.int64)
    smaller = int(min(labels.sum(), len(labels) - labels.sum()))
    if folds < 2:
        raise UserError(f"--folds {folds}: cross-fitting needs at least 2 folds")
    if smaller < folds:
        raise UserError(f"--folds {folds}: the validation file has only {smaller} record(s) of its smaller class, "
                        f"fewer than the folds; every fold needs both classes (use --folds {max(2, smaller)} or "
                        "a larger validation set)")


def fit_stack(features: np.ndarray, labels: np.ndarray, folds: int = DEFAULT_FOLDS, seed: int = 1,
              c: float = DEFAULT_C) -> StackFit:
    """Cross-fit a logistic regression of ``labels`` on ``features`` (calibrated member log-odds
    [n, m]) in ``folds`` stratified folds (shuffled with ``seed``), then fit it on everything."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels, dtype=np.int64)
    check_folds(labels, folds)
    oof = np.empty(len(labels), dtype=np.float64)
    fold = np.empty(len(labels), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_rows, test_rows) in enumerate(splitter.split(features, labels)):
        oof[test_rows] = _regression(features[train_rows], labels[train_rows], c, seed).decision_function(
            features[test_rows])
        fold[test_rows] = k
    final = _regression(features, labels, c, seed)
    return StackFit(final.coef_[0].astype(np.float64), float(final.intercept_[0]), oof,
                    final.decision_function(features).astype(np.float64), fold)


def common_window(windows: Sequence[tuple[str, dict | None]]) -> dict | None:
    """The window the members share ((name, window) pairs); UserError when their widths differ.
    Members without a recorded width (k-mer) fit any window."""
    widths = {name: w["width"] for name, w in windows if w and w.get("width") is not None}
    if len(set(widths.values())) > 1:
        shown = ", ".join(f"{name}: {width} bp" for name, width in widths.items())
        raise UserError(f"the members were trained on different window widths ({shown}); score-regions cuts one "
                        "window per region, so the members of an ensemble must share one width")
    return next((dict(w) for _, w in windows if w and w.get("width") is not None), None)


def ensemble_config(names: Sequence[str], kinds: Sequence[str], temperatures: Sequence[float], stack: StackFit,
                    folds: int, seed: int, c: float) -> dict:
    """config.json of an ensemble (the weights are also in model.safetensors, which the loader
    reads; it checks the two agree)."""
    members = [{"name": n, "kind": k, "folder": member_folder(i, n), "weight": float(w), "temperature": float(t)}
               for i, (n, k, t, w) in enumerate(zip(names, kinds, temperatures, stack.weights), start=1)]
    return {"model_type": KIND_NAME, "members": members, "intercept": stack.intercept,
            "features": "each member's log-odds divided by its calibration temperature (calibrated log-odds)",
            "stacker": "logistic regression (L2)", "C": c, "folds": folds, "seed": seed,
            "cross_fitting": "stratified folds of the validation set; calibration and validation metrics from the "
                             "out-of-fold stacked log-odds, final weights from all of it"}


def _member_entries(directory: str, config: dict) -> list[dict]:
    members = config.get("members")
    if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, dict) for m in members):
        raise UserError("config.json of an ensemble must list at least two members", directory)
    root = os.path.realpath(directory)
    for m in members:
        folder = m.get("folder")
        path = os.path.realpath(os.path.join(directory, str(folder)))
        if not isinstance(folder, str) or not path.startswith(os.path.join(root, MEMBERS_FOLDER) + os.sep):
            raise UserError(f"ensemble member folder {folder!r} does not lie in {MEMBERS_FOLDER}/", directory)
    return members


def load_ensemble(directory: str, config: dict, device: str, precision: str, load_member: Callable):
    """The scorer of a saved ensemble; members loaded with ``load_member`` (the registry's
    ``load_model``). A member that is itself an ensemble is refused."""
    from enhancer_tools.models.modeldir import load_tensors, read_model_info

    members = _member_entries(directory, config)
    tensors = load_tensors(directory, framework="np")
    try:
        weights = tensors["weights"].astype(np.float64)
        intercept = float(tensors["intercept"][0])
        temperatures = [float(m["temperature"]) for m in members]
        stated = [float(m["weight"]) for m in members]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UserError(f"config.json and model.safetensors do not describe an ensemble: {exc!r}", directory) from None
    if len(weights) != len(members) or not np.allclose(weights, stated, rtol=1e-6, atol=1e-9):
        raise UserError("the member weights of config.json and model.safetensors disagree", directory)
    if not all(t > 0 for t in temperatures):
        raise UserError("every member temperature in config.json must be > 0", directory)
    loaded = []
    for m in members:
        path = os.path.join(directory, m["folder"])
        if read_model_info(path)["kind"] == KIND_NAME:
            raise UserError("an ensemble member is itself an ensemble; nested ensembles are not supported", path)
        loaded.append(load_member(path, device, precision))
    cls = GradientEnsembleScorer if all(has_gradients(m.scorer) for m in loaded) else EnsembleScorer
    return cls(loaded, temperatures, weights, intercept, device, precision)
