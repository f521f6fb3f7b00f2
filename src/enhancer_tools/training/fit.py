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
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.output_folder import check_output_folder, work_folder
from enhancer_tools.io.runinfo import RunInfo, sha256_file
from enhancer_tools.training import distributed
from enhancer_tools.metrics.calibration import calibrate
from enhancer_tools.training.data import LabelledSet, read_train_val
from enhancer_tools.metrics.binary import binary_metrics
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
    force: bool = False  # replace an earlier model directory at output (and discard an old checkpoint)
    inputs: tuple = ()  # the family's other inputs (checkpoint folder, tokenizer, config file): never inside output
    on_step: Callable[[int], None] | None = None  # test hook, called after each optimizer step


class _Session:
    def __init__(self, run: RunInfo, family: ModelFamily, req: FitRequest, device: str, ctx, train_set: LabelledSet,
                 val_set: LabelledSet) -> None:
        self.run, self.family, self.req, self.device, self.ctx = run, family, req, device, ctx
        self.train_set, self.val_set = train_set, val_set
        self.work = work_folder(req.output)
        self.fingerprint = {"kind": family.kind, "train_sha256": sha256_file(req.train), "val_sha256": sha256_file(req.val)}
        self._encoded: dict[Hashable, dict] = {}

    def train_one(self, params: dict, checkpoint_dir: str, resume: bool, trial=None) -> tuple[Any, TrainResult]:
        config = TrainConfig.from_params({**params, "seed": self.req.seed})
        adapter = self.family.adapter(params)
        key = self.family.encoding_key(params)
        cache = self._encoded.setdefault(key, {})
        needed = [name for name in ("train", "val") + (("train_rc",) if config.rc_augment else ()) if name not in cache]
        if needed:
            cache.update(self._encode_once(adapter, needed))
        seed_everything(self.req.seed)
        model = self.family.build(params)
        result = train(model, adapter, self.train_set, self.val_set, config, device=self.device,
                       checkpoint_dir=checkpoint_dir, resume=resume, trial=trial, on_step=self.req.on_step,
                       fingerprint={**self.fingerprint, "params": params}, encoded=cache)
        return model, result

    def _encode_once(self, adapter, names: list[str]) -> dict:
        """Encode the named sets. Under torchrun rank 0 encodes first (a family with a cache,
        DNABERT-2's token ids, writes it) while the others wait, then read what it wrote."""
        from enhancer_tools.seq import reverse_complement

        seqs = {"train": self.train_set.seqs, "val": self.val_set.seqs,
                "train_rc": [reverse_complement(s) for s in self.train_set.seqs] if "train_rc" in names else None}
        distributed_run = self.ctx.world_size > 1
        if distributed_run and not self.ctx.is_main:
            distributed.barrier()
        encoded = {name: adapter.encode(seqs[name]) for name in names}
        if distributed_run and self.ctx.is_main:
            distributed.barrier()
        return encoded

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

    from enhancer_tools.models.modeldir import is_model_directory, resolve_device

    if req.threads:
        torch.set_num_threads(req.threads)
    run.add_input("train", req.train)
    run.add_input("val", req.val)
    check_output_folder(req.output, [req.train, req.val, req.space_file, *req.inputs], force=req.force,
                        is_ours=is_model_directory, what="model directory")
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
    if not req.resume and os.path.isdir(checkpoint_dir):
        if not req.force:
            raise UserError("holds the checkpoint of an earlier, unfinished run: continue it with --resume, or add "
                            "--force to discard it and start again", checkpoint_dir)
        if session.ctx.is_main:
            log.info("--force: removing the checkpoint of an earlier run")
            shutil.rmtree(checkpoint_dir)
    distributed.barrier()
    model, result = session.train_one(dict(req.params), checkpoint_dir, req.resume)
    metrics: dict = {}
    if session.ctx.is_main:
        with AtomicOutputs() as out:
            metrics = session.write_model(out.directory(req.output, replace=req.force), model, dict(req.params), result)
        shutil.rmtree(session.work, ignore_errors=True)
    metrics["hyperparameters"] = dict(req.params)
    metrics["optuna"] = None
    return metrics


def _fit_study(session: _Session) -> dict:
    """Run this process's trials, then save the study's best trial that has a model.

    Workers sharing a study (same --optuna-storage, --study-name and -o) write their trial
    models to ``MODEL_DIR.work/trials/trial-N`` (each keeps only its own best) and finish one at
    a time under a file lock: each re-reads the study there, so the last to finish sees every
    trial. A model directory written by a study records the trial in its provenance.json
    (``optuna_trial``): a worker whose choice is already in place writes nothing, and it may
    replace an output of its own study without --force. Trial models of finished trials are
    removed once the output holds one at least as good."""
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
                os.makedirs(trials_dir, exist_ok=True)  # a worker that finished may have removed it
                with AtomicOutputs() as out:
                    staged = out.directory(target)
                    session.write_model(staged, model, params, result)
                    _tag_trial(staged, {"study_name": trial.study.study_name, "number": trial.number, "value": value})
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
    with _output_lock(os.path.join(session.work, ".output.lock")):
        # Read under the lock: a worker that finishes later sees this one's trials and output.
        summary = hpo.study_summary(study)
        if summary["best_trial"] is None:
            raise UserError("no Optuna trial completed (all were pruned or failed); nothing to save")
        trials = {t.number: t for t in study.get_trials(deepcopy=False)}
        held = _trial_tag(req.output)  # the trial of this study that the output holds, if any
        if held is not None and not (held.get("study_name") == study.study_name and held.get("number") in trials
                                     and trials[held["number"]].value == held.get("value")):
            held = None
        chosen = _choose_saved_trial(list(trials.values()), summary["best_trial"], held, trials_dir, study.study_name)
        if chosen is None:
            raise UserError(f"none of the study's complete trials has a model in {trials_dir} or {req.output} (were "
                            "they run by workers with another -o, or on another machine?)")
        if chosen != summary["best_trial"]:
            log.warning("the study's best trial %d has no model in %s; saving trial %d, the best one that has",
                        summary["best_trial"], trials_dir, chosen)
        if held is not None and held.get("number") == chosen:
            log.info("%s already holds trial %d of study %s", req.output, chosen, study.study_name)
        else:
            with AtomicOutputs() as out:
                shutil.copytree(os.path.join(trials_dir, f"trial-{chosen}"),
                                out.directory(req.output, replace=req.force or held is not None), dirs_exist_ok=True)
        with open(os.path.join(req.output, "provenance.json"), encoding="utf-8") as fh:
            prov = json.load(fh)
        # The output holds the best finished trial that has a model, so no other finished trial's
        # model can be saved later: remove them all (other workers' too). Running trials keep theirs.
        states = {t.number: t.state for t in trials.values()}
        still_running = any(not s.is_finished() for s in states.values())
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(trials_dir):
                number = _trial_number(name)
                folder = os.path.join(trials_dir, name)
                if number is None or number not in states or not states[number].is_finished():
                    continue
                tag = _trial_tag(folder)
                if number in own or (tag is not None and tag.get("study_name") == study.study_name):
                    shutil.rmtree(folder, ignore_errors=True)
        _remove_if_empty(trials_dir)
        if req.storage is None or not still_running:  # a family's cached encodings (e.g. token ids)
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


def _trial_number(name: str) -> int | None:
    """N for a trial model folder 'trial-N' (not for the hidden temporary folders beside them)."""
    prefix, _, number = name.partition("-")
    return int(number) if prefix == "trial" and number.isdigit() else None


def _tag_trial(directory: str, tag: dict) -> None:
    """Record the Optuna trial a model directory comes from in its provenance.json."""
    import json

    path = os.path.join(directory, "provenance.json")
    with open(path, encoding="utf-8") as fh:
        prov = json.load(fh)
    prov["optuna_trial"] = tag
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(prov, fh, indent=2)
        fh.write("\n")


def _trial_tag(directory: str | os.PathLike) -> dict | None:
    """The ``optuna_trial`` record of a model directory; None when absent or unreadable."""
    import json

    try:
        with open(os.path.join(directory, "provenance.json"), encoding="utf-8") as fh:
            tag = json.load(fh).get("optuna_trial")
    except (OSError, ValueError, AttributeError):
        return None
    return tag if isinstance(tag, dict) else None


def _choose_saved_trial(trials: list, best: int, held: dict | None, trials_dir: str, study_name: str) -> int | None:
    """The complete trial to save: the best one whose model is in the output already (``held``,
    a trial of this study) or in ``trials_dir``. Among equal values the held one is kept, then
    the study's best."""
    held_number = held.get("number") if held else None

    def rank(t) -> tuple:
        return (-t.value, t.number != held_number, t.number != best, t.number)

    for t in sorted((t for t in trials if t.state.name == "COMPLETE"), key=rank):
        if t.number == held_number:
            return t.number
        tag = _trial_tag(os.path.join(trials_dir, f"trial-{t.number}"))
        if tag is not None and tag.get("study_name") == study_name and tag.get("number") == t.number:
            return t.number
    return None


@contextlib.contextmanager
def _output_lock(path: str):
    """An exclusive lock on ``path`` (created, with its folder, when missing). The holder may
    remove the file; a waiter then finds it gone or replaced and locks the current one."""
    while True:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fh = open(path, "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                same = os.path.samestat(os.fstat(fh.fileno()), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                yield
                return
        finally:
            fh.close()
