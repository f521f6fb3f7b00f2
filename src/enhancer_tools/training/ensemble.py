"""One model-ensemble run: load the member models, score the labelled validation set with each,
cross-fit the stack (``models.ensemble.fit_stack``), calibrate on the out-of-fold stacked
log-odds exactly as every trainer calibrates, and write an ``ensemble`` model directory with the
members copied inside.

Honesty: the validation metrics, temperature and threshold of the ensemble come from out-of-fold
predictions (each record scored by a stack fitted without it); the in-sample metrics of the final
stack are reported beside them, for comparison only. The members themselves were usually
calibrated (and early-stopped) on the same validation set, so even the out-of-fold metrics are
optimistic about the members' part; the test split is what the report evaluates.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.output_folder import check_output_folder
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.metrics.binary import binary_metrics
from enhancer_tools.metrics.calibration import calibrate
from enhancer_tools.models.ensemble import (
    DEFAULT_C,
    DEFAULT_FOLDS,
    KIND_NAME,
    check_folds,
    common_window,
    ensemble_config,
    fit_stack,
    member_folder,
)
from enhancer_tools.models.modeldir import (
    is_model_directory,
    provenance,
    read_model_info,
    save_model_dir,
)
from enhancer_tools.models.precision import resolve_device
from enhancer_tools.seq import reverse_complement
from enhancer_tools.training.data import read_labelled

log = logging.getLogger(__name__)


@dataclass
class EnsembleRequest:
    """The options of model-ensemble (see its --help). ``members``: (name, model directory)."""

    members: list[tuple[str, str]]
    val: str
    output: str
    folds: int = DEFAULT_FOLDS
    c: float = DEFAULT_C
    seed: int = 1
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 64
    threads: int | None = None
    force: bool = False


def parse_member(text: str) -> tuple[str, str]:
    """``DIR`` or ``NAME=DIR`` -> (name, DIR); an existing path is always a path, and its name is
    the folder's base name."""
    if os.path.exists(text) or "=" not in text:
        return os.path.basename(os.path.normpath(text)) or "model", text
    name, _, path = text.partition("=")
    if not name:
        raise UserError(f"--member {text!r}: give DIR or NAME=DIR")
    return name, path


def _check_members(req: EnsembleRequest) -> list[dict]:
    """model.json of every member, after the checks that need no loading."""
    if len(req.members) < 2:
        raise UserError("an ensemble needs at least two --member models")
    infos = []
    for name, path in req.members:
        if not os.path.isdir(path):
            raise UserError(f"--member {name}: model directory not found", path)
        info = read_model_info(path)
        if info["kind"] == KIND_NAME:
            raise UserError(f"--member {name} is itself an ensemble; nested ensembles are not supported: give its "
                            "members instead", path)
        infos.append(info)
    real = [os.path.realpath(p) for _, p in req.members]
    if len(set(real)) != len(real):
        raise UserError("the same model directory is given twice as --member")
    output = os.path.realpath(req.output)
    for (name, _), folder in zip(req.members, real):
        if output == folder or output.startswith(folder + os.sep):
            raise UserError(f"-o lies inside the --member {name} model directory, which is copied into it; choose "
                            "another -o folder", req.output)
    return infos


def unique_names(names: list[str]) -> list[str]:
    """Member names made unique by a numeric suffix (``cnn``, ``cnn-2``)."""
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in out:
            n += 1
            candidate = f"{name}-{n}"
        out.append(candidate)
    return out


def _load_members(req: EnsembleRequest, device: str) -> list:
    from enhancer_tools.models.registry import load_model

    return [load_model(path, device, req.precision) for _, path in req.members]


def _warn_on_training_data(val_path: str, names: list[str], models: list) -> None:
    """Warn when the validation file is a member's training file (its provenance checksum): the
    stack would then trust the member that has seen the answers."""
    from enhancer_tools.io.runinfo import sha256_file

    digest = sha256_file(val_path)
    for name, model in zip(names, models):
        train = ((model.provenance or {}).get("training_data") or {}).get("train") or {}
        if isinstance(train, dict) and train.get("sha256") == digest:
            log.warning("the validation file is the training file of member %s: its weight will be inflated; stack "
                        "on the validation split", name)


def _metrics(labels: np.ndarray, stack, calibration, member_features: np.ndarray, names: list[str]) -> dict:
    """Validation metrics of the out-of-fold stack (the honest ones), of the in-sample stack and
    of each member alone (its calibrated log-odds), with the calibration."""
    validation = binary_metrics(labels, stack.oof_logodds, calibration.temperature)
    in_sample = binary_metrics(labels, stack.in_sample_logodds, calibrate(stack.in_sample_logodds, labels).temperature)
    members = {n: binary_metrics(labels, member_features[:, i], 1.0) for i, n in enumerate(names)}
    return {"validation": validation, "validation_in_sample": in_sample, "member_validation": members,
            "calibration": calibration.as_dict()}


def _write(req: EnsembleRequest, out_dir: str, models: list, names: list[str], temperatures, window: dict | None,
           stack, calibration, metrics: dict) -> None:
    config = ensemble_config(names, [m.kind for m in models], temperatures, stack, req.folds, req.seed, req.c)
    prov = provenance({"val": req.val}, {"members": [p for _, p in req.members], "folds": req.folds, "C": req.c,
                                         "seed": req.seed}, metrics,
                      members=[{"name": n, "kind": m.kind, "source": os.path.abspath(p), "provenance": m.provenance}
                               for n, m, (_, p) in zip(names, models, req.members)])
    save_model_dir(out_dir, kind=KIND_NAME, config=config,
                   tensors={"weights": stack.weights, "intercept": np.array([stack.intercept])},
                   calibration=calibration, provenance_info=prov, window=window,
                   info={"members": [{"name": n, "kind": m.kind} for n, m in zip(names, models)]})
    for i, ((_, path), name) in enumerate(zip(req.members, names), start=1):
        shutil.copytree(path, os.path.join(out_dir, member_folder(i, name)), symlinks=False)


def fit_ensemble(run: RunInfo, req: EnsembleRequest) -> dict:
    """Run model-ensemble end to end; fills ``run`` and returns the metrics."""
    import torch

    if req.threads:
        torch.set_num_threads(req.threads)
    run.add_input("val", req.val)
    run.add_input("member_configs", [os.path.join(p, "model.json") for _, p in req.members
                                     if os.path.isfile(os.path.join(p, "model.json"))])
    check_output_folder(req.output, [req.val, *[p for _, p in req.members]], force=req.force,
                        is_ours=is_model_directory, what="model directory")
    if not req.c > 0:
        raise UserError(f"--c {req.c}: the inverse regularisation strength must be > 0")
    _check_members(req)
    val = read_labelled(req.val, "validation")
    check_folds(val.labels, req.folds)
    device = resolve_device(req.device)
    models = _load_members(req, device)
    names = unique_names([n for n, _ in req.members])
    window = common_window([(n, m.window) for n, m in zip(names, models)])
    _warn_on_training_data(req.val, names, models)
    temperatures = [float(m.calibration.temperature) for m in models]
    # both strands averaged, as the trainers validate and score-regions scores by default
    val_rc = [reverse_complement(seq) for seq in val.seqs]
    raw = np.column_stack([(m.logits(val.seqs, req.batch_size) + m.logits(val_rc, req.batch_size)) / 2 for m in models])
    features = raw / np.asarray(temperatures)
    stack = fit_stack(features, val.labels, req.folds, req.seed, req.c)
    calibration = calibrate(stack.oof_logodds, val.labels)
    metrics = _metrics(val.labels, stack, calibration, features, names)
    metrics["members"] = [{"name": n, "kind": m.kind, "weight": float(w), "temperature": t}
                          for n, m, w, t in zip(names, models, stack.weights, temperatures)]
    metrics["intercept"] = stack.intercept
    metrics["hyperparameters"] = {"folds": req.folds, "C": req.c, "seed": req.seed}
    with AtomicOutputs() as out:
        _write(req, out.directory(req.output, replace=req.force), models, names, temperatures, window, stack,
               calibration, metrics)
    run.counts.update(members=len(models), val_sequences=len(val), val_positive=val.n_positive)
    run.outputs["model_dir"] = req.output
    run.extra.update(metrics)
    run.extra["model"] = {"kind": KIND_NAME, "device": device}
    log.info("ensemble of %d: out-of-fold validation ROC-AUC %.4f, PR-AUC %.4f; weights %s", len(models),
             metrics["validation"]["roc_auc"] or 0, metrics["validation"]["pr_auc"] or 0,
             ", ".join(f"{n} {w:.3g}" for n, w in zip(names, stack.weights)))
    return metrics
