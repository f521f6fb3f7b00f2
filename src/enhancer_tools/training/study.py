"""An Optuna study of one training tool: this process's trials, then the study's best model saved
to MODEL_DIR (``training.fit`` hands over here when ``--trials`` is given).

Workers sharing a study (same --optuna-storage, --study-name and -o) write their trial models to
``MODEL_DIR.work/trials/trial-N`` (each keeps only its own best) and finish one at a time under a
file lock: each re-reads the study there, so the last to finish sees every trial. A model
directory written by a study records the trial in its provenance.json (``optuna_trial``): a
worker whose choice is already in place writes nothing, and it may replace an output of its own
study without --force. Trial models of finished trials are removed once the output holds one at
least as good; the token cache once no trial of the study is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import logging
import os
import shutil

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.models.hyperparameters import names, with_values
from enhancer_tools.models.modeldir import PROVENANCE_JSON
from enhancer_tools.training import hpo

log = logging.getLogger(__name__)


def release_memory() -> None:
    """Free Python garbage and cached GPU memory between trials."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def search_space(session) -> dict:
    """The kind's default space for this start, ``--search-space`` merged over it, without what the
    user set; UserError for a name that is not a hyperparameter of the kind."""
    req = session.req
    override = hpo.read_search_space(req.space_file) if req.space_file else None
    space = hpo.merge_spaces(session.kind.search_space(req.hyperparameters), override,
                             {k: None for k in req.user_set})
    unknown = sorted(set(space) - set(names(type(req.hyperparameters))))
    if unknown:
        raise UserError(f"the search space names {', '.join(unknown)}, not hyperparameters of a {session.kind.name} "
                        f"model (known: {', '.join(names(type(req.hyperparameters)))})", req.space_file)
    return space


def fit_study(session) -> dict:
    """Run this process's trials of the study, save the best model; returns its metrics."""
    req = session.req
    trials_dir = os.path.join(session.work, "trials")
    os.makedirs(trials_dir, exist_ok=True)
    own: dict[int, float] = {}  # this process's saved trial models: number -> value
    study = hpo.run_study(_objective(session, trials_dir, own), search_space(session), req.trials,
                          storage=req.storage, study_name=req.study_name, seed=req.seed, resume=req.resume)
    with _output_lock(os.path.join(session.work, ".output.lock")):
        # Read under the lock: a worker that finishes later sees this one's trials and output.
        summary = hpo.study_summary(study)
        if summary["best_trial"] is None:
            raise UserError("no Optuna trial completed (all were pruned or failed); nothing to save")
        chosen = _save_best(session, study, summary["best_trial"], trials_dir)
        with open(os.path.join(req.output, PROVENANCE_JSON), encoding="utf-8") as fh:
            prov = json.load(fh)
        _clean_up(session, study, trials_dir, own)
    metrics = dict(prov["metrics"])
    metrics["hyperparameters"] = {k: v for k, v in prov["training_args"].items() if k not in ("seed", "device")}
    metrics["optuna"] = {**summary, "saved_trial": chosen}
    return metrics


def _objective(session, trials_dir: str, own: dict[int, float]):
    """The Optuna objective: train one trial, keep its model when it is this process's best."""

    def objective(trial, sampled: dict) -> float:
        hp = with_values(session.req.hyperparameters, sampled)
        log.info("trial %d: %s", trial.number, {k: sampled[k] for k in sorted(sampled)})
        checkpoint_dir = os.path.join(session.work, f"trial-{trial.number}")
        try:
            model, result = session.train_one(hp, checkpoint_dir, resume=False, trial=trial)
            value = result.validation["pr_auc"] or 0.0
            if value > max(own.values(), default=-1.0):
                os.makedirs(trials_dir, exist_ok=True)  # a worker that finished may have removed it
                with AtomicOutputs() as out:
                    staged = out.directory(os.path.join(trials_dir, f"trial-{trial.number}"))
                    session.write_trained(staged, model, hp, result)
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

    return objective


def _save_best(session, study, best: int, trials_dir: str) -> int:
    """Copy the best complete trial that has a model to the output (nothing when it is there
    already); returns its number."""
    req = session.req
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    held = _trial_tag(req.output)  # the trial of this study that the output holds, if any
    if held is not None and not (held.get("study_name") == study.study_name and held.get("number") in trials
                                 and trials[held["number"]].value == held.get("value")):
        held = None
    chosen = _choose_saved_trial(list(trials.values()), best, held, trials_dir, study.study_name)
    if chosen is None:
        raise UserError(f"none of the study's complete trials has a model in {trials_dir} or {req.output} (were "
                        "they run by workers with another -o, or on another machine?)")
    if chosen != best:
        log.warning("the study's best trial %d has no model in %s; saving trial %d, the best one that has",
                    best, trials_dir, chosen)
    if held is not None and held.get("number") == chosen:
        log.info("%s already holds trial %d of study %s", req.output, chosen, study.study_name)
    else:
        with AtomicOutputs() as out:
            shutil.copytree(os.path.join(trials_dir, f"trial-{chosen}"),
                            out.directory(req.output, replace=req.force or held is not None), dirs_exist_ok=True)
    return chosen


def _clean_up(session, study, trials_dir: str, own: dict[int, float]) -> None:
    """The output holds the best finished trial that has a model, so no other finished trial's
    model can be saved later: remove them all (other workers' too). Running trials keep theirs."""
    req = session.req
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
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
    if req.storage is None or not still_running:  # a kind's cached encodings (e.g. token ids)
        shutil.rmtree(os.path.join(session.work, "cache"), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        if os.listdir(session.work) == [".output.lock"]:
            os.unlink(os.path.join(session.work, ".output.lock"))
    _remove_if_empty(session.work)


def _remove_if_empty(path: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _trial_number(name: str) -> int | None:
    """N for a trial model folder 'trial-N' (not for the hidden temporary folders beside them)."""
    prefix, _, number = name.partition("-")
    return int(number) if prefix == "trial" and number.isdigit() else None


def _tag_trial(directory: str, tag: dict) -> None:
    """Record the Optuna trial a model directory comes from in its provenance.json."""
    path = os.path.join(directory, PROVENANCE_JSON)
    with open(path, encoding="utf-8") as fh:
        prov = json.load(fh)
    prov["optuna_trial"] = tag
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(prov, fh, indent=2)
        fh.write("\n")


def _trial_tag(directory: str | os.PathLike) -> dict | None:
    """The ``optuna_trial`` record of a model directory; None when absent or unreadable."""
    try:
        with open(os.path.join(directory, PROVENANCE_JSON), encoding="utf-8") as fh:
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
