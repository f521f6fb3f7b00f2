"""One training tool run, shared by enhancernet-train and dnabert2-finetune: read the data,
train once or run an Optuna study, calibrate on validation, write the model directory and
fill the metrics JSON.

A model family tells it how to build, feed and export its model (``ModelFamily``); everything
else (early stopping, checkpoints and ``--resume``, the search, calibration, the model-directory
layout, the metrics keys) is the same for every family.

Work files live in ``MODEL_DIR.work/`` next to the output: ``checkpoint/`` of a single run
(kept after a failure or kill for ``--resume``), ``trial-N/`` checkpoints and ``trials/trial-N/``
model directories of a study (shared by workers of one study), and ``cache/``, a family's
encoded data (dnabert2: token ids). A successful single run removes the folder; a study removes
its own files (the cache too, unless the study is shared) and the folder once it is empty.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import shutil
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs
from enhancer_tools.io.runinfo import RunInfo, sha256_file
from enhancer_tools.training import distributed
from enhancer_tools.training.calibration import calibrate
from enhancer_tools.training.data import LabelledSet, read_train_val
from enhancer_tools.training.metrics import binary_metrics
from enhancer_tools.training.trainer import TrainConfig, TrainResult, seed_everything, train

log = logging.getLogger(__name__)


@dataclass
class ModelExport:
    """What goes into a model directory besides calibration and provenance."""

    config: dict
    tensors: dict
    window: dict | None = None
    max_length: int | None = None
    tokenizer: str | None = None
    info: dict = field(default_factory=dict)


@dataclass
class ModelFamily:
    """How the shared workflow builds, feeds and saves one kind of torch model.

    ``defaults``: every hyperparameter with its default (TrainConfig names such as
    learning_rate, batch_size, weight_decay, warmup_ratio, epochs, plus model names such as
    dropout); ``search_space``: the default Optuna space (see training.hpo);
    ``build(params)``: a new model (the global torch RNG is seeded just before);
    ``adapter(params)``: its TaskAdapter; ``export(model, params)``: a ModelExport;
    ``encoding_key(params)``: parameters that change the encoding (encoded data is reused
    across trials with the same key).
    """

    kind: str
    defaults: dict
    search_space: dict
    build: Callable[[dict], Any]
    adapter: Callable[[dict], Any]
    export: Callable[[Any, dict], ModelExport]
    encoding_key: Callable[[dict], Hashable] = lambda params: None


@dataclass
class FitRequest:
    """The command line of a training tool, as the shared workflow needs it."""

    train: str
    val: str
    output: str
    params: dict  # hyperparameters: the family's defaults with the user's explicit settings
    fixed: frozenset = frozenset()  # names the user set explicitly: never searched
    trials: int = 0
    storage: str | None = None
    study_name: str | None = None
    space_file: str | None = None
    resume: bool = False
    device: str = "auto"
    seed: int = 1
    threads: int | None = None
    on_step: Callable[[int], None] | None = None  # test hook, called after each optimizer step


class _Session:
    def __init__(self, run: RunInfo, family: ModelFamily, req: FitRequest, device: str, ctx, train_set: LabelledSet,
                 val_set: LabelledSet) -> None:
        self.run, self.family, self.req, self.device, self.ctx = run, family, req, device, ctx
        self.train_set, self.val_set = train_set, val_set
        self.work = os.path.abspath(req.output) + ".work"
        self.fingerprint = {"kind": family.kind, "train_sha256": sha256_file(req.train), "val_sha256": sha256_file(req.val)}
        self._encoded: dict[Hashable, dict] = {}

    def train_one(self, params: dict, checkpoint_dir: str, resume: bool, trial=None) -> tuple[Any, TrainResult]:
        config = TrainConfig.from_params({**params, "seed": self.req.seed})
        adapter = self.family.adapter(params)
        key = self.family.encoding_key(params)
        cache = self._encoded.setdefault(key, {})
        if "train" not in cache:
            cache["train"] = adapter.encode(self.train_set.seqs)
            cache["val"] = adapter.encode(self.val_set.seqs)
        if config.rc_augment and "train_rc" not in cache:
            from enhancer_tools.seq import reverse_complement

            cache["train_rc"] = adapter.encode([reverse_complement(s) for s in self.train_set.seqs])
        seed_everything(self.req.seed)
        model = self.family.build(params)
        result = train(model, adapter, self.train_set, self.val_set, config, device=self.device,
                       checkpoint_dir=checkpoint_dir, resume=resume, trial=trial, on_step=self.req.on_step,
                       fingerprint={**self.fingerprint, "params": params}, encoded=cache)
        return model, result

    def write_model(self, directory: str, model, params: dict, result: TrainResult, extra_metrics: Mapping | None = None) -> dict:
        from enhancer_tools.models.modeldir import provenance, save_model_dir

        calibration = calibrate(result.val_logodds, self.val_set.labels)
        validation = binary_metrics(self.val_set.labels, result.val_logodds, calibration.temperature)
        export = self.family.export(model, params)
        metrics = {"validation": validation, "calibration": calibration.as_dict(), **training_metrics(result),
                   **dict(extra_metrics or {})}
        prov = provenance({"train": self.req.train, "val": self.req.val},
                          {**params, "seed": self.req.seed, "device": self.device}, metrics)
        save_model_dir(directory, kind=self.family.kind, config=export.config, tensors=export.tensors,
                       calibration=calibration, provenance_info=prov, window=export.window,
                       max_length=export.max_length, tokenizer=export.tokenizer, info=export.info)
        return metrics


def training_metrics(result: TrainResult) -> dict:
    """The per-run part of the metrics JSON."""
    return {"epochs": result.log, "best_epoch": result.best_epoch, "stopped_early": result.stopped_early,
            "optimizer_steps": result.steps, "train_seconds": round(result.train_seconds, 3),
            "throughput_seqs_per_s": round(result.throughput, 2) if result.throughput else None,
            "peak_gpu_memory_mib": round(result.peak_gpu_memory_mib, 1) if result.peak_gpu_memory_mib is not None else None,
            "train_config": result.config}


def release_memory() -> None:
    """Free Python garbage and cached GPU memory between trials."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def fit(run: RunInfo, family: ModelFamily, req: FitRequest) -> dict:
    """Run a training tool end to end; fills ``run`` and returns the metrics of the saved model."""
    import torch

    from enhancer_tools.models.modeldir import resolve_device

    if req.threads:
        torch.set_num_threads(req.threads)
    run.add_input("train", req.train)
    run.add_input("val", req.val)
    refuse_overwriting_inputs([req.output], [req.train, req.val])
    if req.trials < 0:
        raise UserError("--trials must be >= 0")
    device = resolve_device(req.device)
    ctx, device = distributed.init_distributed(device)
    if req.trials and ctx.world_size > 1:
        raise UserError("--trials with torchrun is not supported: start one worker per GPU with the same "
                        "--optuna-storage and --study-name instead")
    train_set, val_set = read_train_val(req.train, req.val)
    run.counts.update(train_sequences=len(train_set), train_positive=train_set.n_positive,
                      val_sequences=len(val_set), val_positive=val_set.n_positive)
    session = _Session(run, family, req, device, ctx, train_set, val_set)
    if ctx.is_main:
        os.makedirs(session.work, exist_ok=True)
    distributed.barrier()
    try:
        metrics = _fit_study(session) if req.trials else _fit_single(session)
    finally:
        distributed.shutdown()
    run.outputs["model_dir"] = req.output
    run.extra.update(metrics)
    run.extra["model"] = {"kind": family.kind, "device": device, "world_size": ctx.world_size}
    return metrics


def _fit_single(session: _Session) -> dict:
    req = session.req
    checkpoint_dir = os.path.join(session.work, "checkpoint")
    if not req.resume and session.ctx.is_main and os.path.isdir(checkpoint_dir):
        log.info("removing the checkpoint of an earlier run (use --resume to continue it)")
        shutil.rmtree(checkpoint_dir)
    distributed.barrier()
    model, result = session.train_one(dict(req.params), checkpoint_dir, req.resume)
    metrics: dict = {}
    if session.ctx.is_main:
        with AtomicOutputs() as out:
            metrics = session.write_model(out.directory(req.output), model, dict(req.params), result)
        shutil.rmtree(session.work, ignore_errors=True)
    metrics["hyperparameters"] = dict(req.params)
    metrics["optuna"] = None
    return metrics


def _fit_study(session: _Session) -> dict:
    import json

    from enhancer_tools.training import hpo

    req = session.req
    override = hpo.read_search_space(req.space_file) if req.space_file else None
    space = hpo.merge_spaces(session.family.search_space, override, {k: None for k in req.fixed})
    trials_dir = os.path.join(session.work, "trials")
    os.makedirs(trials_dir, exist_ok=True)
    own: dict[int, float] = {}  # this process's saved trial models: number -> value

    def objective(trial, sampled: dict) -> float:
        params = {**req.params, **sampled}
        log.info("trial %d: %s", trial.number, {k: sampled[k] for k in sorted(sampled)})
        checkpoint_dir = os.path.join(session.work, f"trial-{trial.number}")
        try:
            model, result = session.train_one(params, checkpoint_dir, resume=False, trial=trial)
            value = result.validation["pr_auc"] or 0.0
            best_mine = max(own.values(), default=-1.0)
            if value > best_mine:
                target = os.path.join(trials_dir, f"trial-{trial.number}")
                with AtomicOutputs() as out:
                    session.write_model(out.directory(target), model, params, result)
                for number in list(own):
                    shutil.rmtree(os.path.join(trials_dir, f"trial-{number}"), ignore_errors=True)
                    del own[number]
                own[trial.number] = value
            del model, result
            return value
        finally:
            shutil.rmtree(checkpoint_dir, ignore_errors=True)
            release_memory()

    study = hpo.run_study(objective, space, req.trials, storage=req.storage, study_name=req.study_name,
                          seed=req.seed, resume=req.resume)
    summary = hpo.study_summary(study)
    if summary["best_trial"] is None:
        raise UserError("no Optuna trial completed (all were pruned or failed); nothing to save")
    chosen = summary["best_trial"]
    source = os.path.join(trials_dir, f"trial-{chosen}")
    if not os.path.isdir(source):
        mine = max(own, key=own.get, default=None)
        if mine is None:
            raise UserError(f"the study's best trial {chosen} was run by another worker whose model is not in {trials_dir}")
        log.warning("the study's best trial %d was run by another worker and its model is not in %s; saving this "
                    "worker's best trial %d", chosen, trials_dir, mine)
        chosen, source = mine, os.path.join(trials_dir, f"trial-{mine}")
    with open(os.path.join(session.work, ".output.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers of one study finish at the same time and write one output
        with AtomicOutputs() as out:
            shutil.copytree(source, out.directory(req.output), dirs_exist_ok=True)
    with open(os.path.join(req.output, "provenance.json"), encoding="utf-8") as fh:
        prov = json.load(fh)
    # Workers sharing a study may still need this worker's best model; a private study cleans up.
    for number in own:
        if req.storage is None or number != summary["best_trial"]:
            shutil.rmtree(os.path.join(trials_dir, f"trial-{number}"), ignore_errors=True)
    _remove_if_empty(trials_dir)
    if req.storage is None:  # a family's cached encodings (e.g. token ids); shared workers may still read them
        shutil.rmtree(os.path.join(session.work, "cache"), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        if os.listdir(session.work) == [".output.lock"]:
            os.unlink(os.path.join(session.work, ".output.lock"))
    _remove_if_empty(session.work)
    metrics = dict(prov["metrics"])
    metrics["hyperparameters"] = {k: v for k, v in prov["training_args"].items() if k not in ("seed", "device")}
    metrics["optuna"] = {**summary, "saved_trial": chosen}
    return metrics


def _remove_if_empty(path: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(path)
