"""One training-tool run, for every model kind: read the data, train once or run an Optuna study,
calibrate on validation, write the model directory and fill the run info.

The kind (``models.kind.ModelKind``, found in ``models.registry``) says how to build, feed and
export its model, or fits itself in one call (k-mer); everything else (the output-folder rules,
early stopping, checkpoints and ``--resume``, the search, calibration, the model-directory
layout, the metrics keys) is the same for every kind.

Work files live in ``MODEL_DIR.work/`` next to the output: ``checkpoint/`` of a single run
(kept after a failure or kill for ``--resume``), ``trial-N/`` checkpoints and ``trials/trial-N/``
model directories of a study (``training.study``), and ``cache/``, a kind's encoded data
(dnabert2: token ids). A successful single run removes the folder.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.output_folder import check_output_folder, work_folder
from enhancer_tools.io.runinfo import RunInfo, sha256_file
from enhancer_tools.metrics.binary import binary_metrics
from enhancer_tools.metrics.calibration import calibrate
from enhancer_tools.models.hyperparameters import as_dict, with_values
from enhancer_tools.models.kind import ModelExport, ModelKind
from enhancer_tools.models.modeldir import (
    is_model_directory,
    provenance,
    save_model_dir,
)
from enhancer_tools.models.precision import resolve_device
from enhancer_tools.models.scorer import TorchScorer
from enhancer_tools.seq import reverse_complement
from enhancer_tools.training import distributed
from enhancer_tools.training.data import LabelledSet, read_train_val
from enhancer_tools.training.study import fit_study
from enhancer_tools.training.trainer import (
    Trainer,
    TrainResult,
    eval_batch_size,
    seed_everything,
    validation_logodds,
)

log = logging.getLogger(__name__)


@dataclass
class FitRequest:
    """A training tool's command line, as the library needs it."""

    kind: ModelKind
    hyperparameters: Any  # the kind's dataclass: its defaults with the user's settings applied
    train: str
    val: str
    output: str
    user_set: frozenset = frozenset()  # hyperparameters the user gave: never searched
    trials: int = 0
    storage: str | None = None
    study_name: str | None = None
    space_file: str | None = None
    resume: bool = False
    device: str = "auto"
    seed: int = 1
    threads: int | None = None
    force: bool = False  # replace an earlier model directory at output (and discard an old checkpoint)
    inputs: tuple = ()  # the kind's other inputs (checkpoint folder, tokenizer, config file): never inside output
    on_step: Callable[[int], None] | None = None  # test hook, called after each optimizer step


class FitSession:
    """The state one run shares between its trials: data, device, work folder, encodings."""

    def __init__(self, req: FitRequest, device: str, ctx, train_set: LabelledSet, val_set: LabelledSet) -> None:
        self.req, self.kind, self.device, self.ctx = req, req.kind, device, ctx
        self.train_set, self.val_set = train_set, val_set
        self.work = work_folder(req.output)
        self.fingerprint = {"kind": req.kind.name, "train_sha256": sha256_file(req.train),
                            "val_sha256": sha256_file(req.val)}
        self._encoded: dict[Hashable, dict] = {}

    def train_one(self, hp, checkpoint_dir: str, resume: bool, trial=None, seed: int | None = None
                  ) -> tuple[Any, TrainResult]:
        """Build and train one model of hyperparameters ``hp`` (``seed``: the request's unless
        given); returns (model, result)."""
        seed = self.req.seed if seed is None else seed
        adapter = self.kind.adapter(hp, os.path.join(self.work, "cache"))
        cache = self._encoded.setdefault(self.kind.encoding_key(hp), {})
        needed = [name for name in ("train", "val", "val_rc") + (("train_rc",) if hp.rc_augment else ())
                  if name not in cache]
        if needed:
            cache.update(self._encode_once(adapter, needed))
        seed_everything(seed)
        model = self.kind.build(hp)
        trainer = Trainer(model, adapter, self.train_set, self.val_set, hp, seed=seed, device=self.device,
                          checkpoint_dir=checkpoint_dir, trial=trial, on_step=self.req.on_step,
                          fingerprint={**self.fingerprint, "params": as_dict(hp)}, encoded=cache)
        return model, trainer.run(resume)

    def train_replicates(self, hp, checkpoint_dir: str, resume: bool) -> tuple[Any, TrainResult]:
        """``hp.replicates`` networks trained apart, replicate r (from 0) with seed + r, its own batch
        order, early stopping and checkpoints (``checkpoint_dir/replicate-<r+1>``), then combined by
        the kind into one model that scores their mean log-odds. Replicate 1 is the single network
        the same seed trains; a deep ensemble, not networks fitted through their mean."""
        n = int(hp.replicates)
        one = with_values(hp, {"replicates": 1})
        results = []
        for r in range(n):
            folder = os.path.join(checkpoint_dir, f"replicate-{r + 1}")
            log.info("replicate %d of %d (seed %d)", r + 1, n, self.req.seed + r)
            # --resume: a replicate the interrupted run never reached simply starts (no "no checkpoint" warning)
            _, result = self.train_one(one, folder, resume and (r == 0 or os.path.isdir(folder)), seed=self.req.seed + r)
            results.append(result)
        model = self.kind.combine(hp, [r.best_state for r in results]).to(self.device).eval()
        # The threshold and temperature are chosen on the validation log-odds of the combined model, the
        # scores users will get, not on a mean of the replicates' own figures (equal up to rounding).
        scorer = TorchScorer(model, self.kind.adapter(one, os.path.join(self.work, "cache")), self.device, one.precision)
        encoded = self._encoded[self.kind.encoding_key(one)]
        val_logodds = validation_logodds(scorer, encoded["val"], encoded["val_rc"], eval_batch_size(one))
        return model, merge_replicates(results, self.val_set.labels, model.state_dict(), val_logodds)

    def _encode_once(self, adapter, names: list[str]) -> dict:
        """Encode the named sets. Under torchrun rank 0 encodes first (a kind with a cache,
        DNABERT-2's token ids, writes it) while the others wait, then read what it wrote."""
        sets = {"train": self.train_set, "val": self.val_set}
        seqs = {name: sets[name].seqs if name in sets else [reverse_complement(s) for s in sets[name[:-3]].seqs]
                for name in names}
        distributed_run = self.ctx.world_size > 1
        if distributed_run and not self.ctx.is_main:
            distributed.barrier()
        encoded = {name: adapter.encode(seqs[name]) for name in names}
        if distributed_run and self.ctx.is_main:
            distributed.barrier()
        return encoded

    def write_model(self, directory: str, export: ModelExport, hp, val_logodds, extra_metrics: Mapping) -> dict:
        """Calibrate on validation and write the model directory; returns its metrics."""
        calibration = calibrate(val_logodds, self.val_set.labels)
        validation = binary_metrics(self.val_set.labels, val_logodds, calibration.temperature)
        metrics = {"validation": validation, "calibration": calibration.as_dict(), **dict(extra_metrics)}
        prov = provenance({"train": self.req.train, "val": self.req.val},
                          {**as_dict(hp), "seed": self.req.seed, "device": self.device}, metrics)
        save_model_dir(directory, kind=self.kind.name, config=export.config, tensors=export.tensors,
                       calibration=calibration, provenance_info=prov, window=export.window,
                       max_tokens=export.max_tokens, tokenizer=export.tokenizer, info=export.info)
        return metrics

    def write_trained(self, directory: str, model, hp, result: TrainResult) -> dict:
        """``write_model`` for a model the torch loop trained."""
        return self.write_model(directory, self.kind.export(model, hp), hp, result.val_logodds,
                                training_metrics(result))


def merge_replicates(results: list[TrainResult], val_labels, best_state: dict, val_logodds) -> TrainResult:
    """One TrainResult for networks trained apart and scored by their mean log-odds (``best_state``
    and ``val_logodds``: the combined model's weights and validation log-odds): each epoch's log
    entry tagged with its replicate, times and steps summed."""
    seqs = sum((r.throughput or 0) * r.train_seconds for r in results)
    seconds = sum(r.train_seconds for r in results)
    peaks = [r.peak_gpu_memory_mib for r in results if r.peak_gpu_memory_mib is not None]
    return TrainResult(best_state=best_state, validation=binary_metrics(val_labels, val_logodds), val_logodds=val_logodds,
                       log=[{"replicate": i + 1, **entry} for i, r in enumerate(results) for entry in r.log],
                       best_epoch=[r.best_epoch for r in results], stopped_early=all(r.stopped_early for r in results),
                       steps=sum(r.steps for r in results), throughput=seqs / seconds if seconds > 0 else None,
                       train_seconds=seconds, peak_gpu_memory_mib=max(peaks) if peaks else None,
                       config={**results[0].config, "replicates": len(results)})


def training_metrics(result: TrainResult) -> dict:
    """The per-run part of the metrics JSON."""
    return {"epochs": result.log, "best_epoch": result.best_epoch, "stopped_early": result.stopped_early,
            "optimizer_steps": result.steps, "train_seconds": round(result.train_seconds, 3),
            "throughput_seqs_per_s": round(result.throughput, 2) if result.throughput else None,
            "peak_gpu_memory_mib": round(result.peak_gpu_memory_mib, 1) if result.peak_gpu_memory_mib is not None else None,
            "train_config": result.config}


def fit(run: RunInfo, req: FitRequest) -> dict:
    """Run a training tool end to end; fills ``run`` and returns the metrics of the saved model."""
    import torch

    if req.threads:
        torch.set_num_threads(req.threads)
    run.add_input("train", req.train)
    run.add_input("val", req.val)
    check_output_folder(req.output, [req.train, req.val, req.space_file, *req.inputs], force=req.force,
                        is_ours=is_model_directory, what="model directory")
    if req.trials < 0:
        raise UserError("--trials must be >= 0")
    if req.trials and getattr(req.hyperparameters, "replicates", 1) > 1:
        if "replicates" in req.user_set:
            raise UserError("--replicates with --trials is not supported: search with one network, then train the "
                            "chosen settings with --replicates")
        # the default replicates are for a plain run; a search compares (and keeps) single networks
        req = replace(req, hyperparameters=with_values(req.hyperparameters, {"replicates": 1}))
        log.info("--trials: every trial trains one network (the default --replicates applies without --trials)")
    if req.trials and not req.kind.trains_with_torch:
        raise UserError(f"--trials: a {req.kind.name} model is fitted in one call and has no Optuna search")
    device = resolve_device(req.device)
    ctx, device = distributed.init_distributed(device)
    if req.trials and ctx.world_size > 1:
        raise UserError("--trials with torchrun is not supported: start one worker per GPU with the same "
                        "--optuna-storage and --study-name instead")
    train_set, val_set = read_train_val(req.train, req.val)
    run.counts.update(train_sequences=len(train_set), train_positive=train_set.n_positive,
                      val_sequences=len(val_set), val_positive=val_set.n_positive)
    session = FitSession(req, device, ctx, train_set, val_set)
    try:
        metrics = _fit_direct(session) if not req.kind.trains_with_torch else _fit_torch(session)
        distributed.barrier()  # the ranks leave together, once rank 0 has written the model directory
    finally:
        distributed.shutdown()
    run.outputs["model_dir"] = req.output
    run.extra.update(metrics)
    run.extra["model"] = {"kind": req.kind.name, "device": device, "world_size": ctx.world_size}
    return metrics


def _fit_torch(session: FitSession) -> dict:
    if session.ctx.is_main:
        os.makedirs(session.work, exist_ok=True)
    distributed.barrier()
    if session.req.trials:
        return fit_study(session)
    return _fit_single(session)


def _fit_single(session: FitSession) -> dict:
    req = session.req
    checkpoint_dir = os.path.join(session.work, "checkpoint")
    if not req.resume and os.path.isdir(checkpoint_dir):
        if not req.force:
            raise UserError("holds the checkpoint of an earlier, unfinished run: continue it with --resume, or add "
                            "--force to discard it and start again", checkpoint_dir)
        if session.ctx.is_main:
            log.info("--force: removing the checkpoint of an earlier run")
            shutil.rmtree(checkpoint_dir)
    distributed.barrier()
    hp = req.hyperparameters
    train = session.train_replicates if getattr(hp, "replicates", 1) > 1 else session.train_one
    model, result = train(hp, checkpoint_dir, req.resume)
    metrics: dict = {}
    if session.ctx.is_main:
        with AtomicOutputs() as out:
            metrics = session.write_trained(out.directory(req.output, replace=req.force), model,
                                            req.hyperparameters, result)
        shutil.rmtree(session.work, ignore_errors=True)
    metrics["hyperparameters"] = as_dict(req.hyperparameters)
    metrics["optuna"] = None
    return metrics


def _fit_direct(session: FitSession) -> dict:
    """A kind that fits itself in one call (k-mer): fit, calibrate on validation, write."""
    req, train, val = session.req, session.train_set, session.val_set
    fitted = req.kind.fit(req.hyperparameters, train.seqs, train.labels, val.seqs, val.labels, req.seed)
    z = fitted.scorer.logits(val.seqs)
    with AtomicOutputs() as out:
        metrics = session.write_model(out.directory(req.output, replace=req.force), fitted.export,
                                      req.hyperparameters, z, fitted.metrics)
    metrics.setdefault("hyperparameters", as_dict(req.hyperparameters))
    log.info("validation ROC-AUC %.4f, PR-AUC %.4f", metrics["validation"]["roc_auc"] or 0,
             metrics["validation"]["pr_auc"] or 0)
    return metrics
