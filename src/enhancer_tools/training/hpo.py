"""Optuna hyperparameter search shared by the trainers.

TPE sampler; a MedianPruner fed with the validation PR-AUC after each validation; the
objective is the best validation PR-AUC of the trial. ``--optuna-storage sqlite:///study.db``
(or a PostgreSQL URL such as ``postgresql://user@host/db``, with the ``postgres`` extra's psycopg
driver) with ``--study-name`` lets several processes, each running the same command, add trials
to one study.

Search-space file (YAML or JSON), merged over the model's default space by name::

    learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}   # float (log scale)
    batch_size: [32, 64, 128]                                # categorical
    channels_scale: {low: 1, high: 3}                        # int (both bounds integers)
    dropout: {low: 0.1, high: 0.5, step: 0.1}                # float with a step
    epochs: 8                                                # fixed value
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)


def read_search_space(path: str | os.PathLike) -> dict:
    """Read a YAML/JSON search-space file (see the module docstring); UserError when malformed."""
    import yaml

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise UserError(f"not valid YAML/JSON: {exc}", path) from None
    if not isinstance(data, dict) or not data:
        raise UserError("a search space is a mapping of parameter name -> range, list of choices or value", path)
    for name, spec in data.items():
        _check_spec(name, spec, path)
    return data


def _number(value, name: str, path) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"parameter {name!r}: {value!r} is not a number", path) from None


def _check_spec(name: str, spec: Any, path=None) -> None:
    if isinstance(spec, dict):
        if "low" not in spec or "high" not in spec:
            raise UserError(f"parameter {name!r}: a range needs 'low' and 'high'", path)
        unknown = set(spec) - {"low", "high", "log", "step"}
        if unknown:
            raise UserError(f"parameter {name!r}: unknown range key(s) {sorted(unknown)}", path)
        if _number(spec["low"], name, path) > _number(spec["high"], name, path):
            raise UserError(f"parameter {name!r}: low is above high", path)
    elif isinstance(spec, list) and not spec:
        raise UserError(f"parameter {name!r}: empty list of choices", path)


def merge_spaces(default: Mapping, override: Mapping | None, fixed: Mapping | None = None) -> dict:
    """The default space updated by ``override``, without the parameters set in ``fixed``."""
    space = {**default, **dict(override or {})}
    return {k: v for k, v in space.items() if k not in (fixed or {})}


def suggest(trial, space: Mapping) -> dict:
    """Sample one value for every parameter of ``space`` from an Optuna trial."""
    params = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            params[name] = trial.suggest_categorical(name, spec)
        elif isinstance(spec, dict):
            low, high = spec["low"], spec["high"]
            is_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, spec.get("step", 1)))
            if is_int:
                params[name] = trial.suggest_int(name, low, high, step=spec.get("step", 1), log=bool(spec.get("log", False)))
            else:
                params[name] = trial.suggest_float(name, float(low), float(high), log=bool(spec.get("log", False)),
                                                   step=float(spec["step"]) if "step" in spec else None)
        else:
            params[name] = spec
    return params


def create_study(storage: str | None, study_name: str | None, seed: int, resume: bool):
    """A maximising study (TPE, MedianPruner); shared through ``storage`` when given."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Workers sharing a study must not draw the same random start-up trials, so only a
    # private study uses the fixed seed.
    sampler = optuna.samplers.TPESampler(seed=seed if storage is None else None, n_startup_trials=5)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if storage is None and resume:
        log.warning("--resume with --trials and no --optuna-storage starts a new study (give a storage to continue one)")
    try:
        return optuna.create_study(storage=_open_storage(storage), study_name=study_name, direction="maximize",
                                   sampler=sampler, pruner=pruner, load_if_exists=True)
    except (ValueError, ImportError) as exc:
        raise UserError(f"cannot open the Optuna study: {exc}") from None


def _open_storage(url: str | None, attempts: int = 6):
    """An RDB storage; workers starting together race to create the schema, so retry a few times.
    SQLite waits up to a minute for a lock held by another worker."""
    import time

    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        return None
    url = _with_driver(url)
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except ImportError as exc:
            if url.startswith("postgresql"):
                raise UserError(f"no PostgreSQL driver for {url.split(':', 1)[0]}:// URLs ({exc}); install "
                                "enhancer-tools' postgres extra: pip install 'enhancer-tools[postgres]'") from None
            raise
        except SQLAlchemyError as exc:
            if attempt == attempts - 1:
                raise UserError(f"cannot open the Optuna storage {_without_password(url)}: {exc.__class__.__name__}: "
                                f"{_without_password(str(exc))}") from None
            time.sleep(0.5 * (attempt + 1))
    return None


def _without_password(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` URL in it masked."""
    import re

    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def _with_driver(url: str) -> str:
    """``postgresql://`` (or ``postgres://``) URLs without a driver name use psycopg (version 3,
    the ``postgres`` extra) when it is installed, whatever SQLAlchemy's default driver is."""
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg") is not None:
        return f"postgresql+psycopg://{rest}"
    return url


def completed_trials(study) -> list:
    import optuna

    return [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]


def run_study(objective: Callable[[Any, dict], float], space: Mapping, n_trials: int, *, storage: str | None = None,
              study_name: str | None = None, seed: int = 1, resume: bool = False):
    """Run ``n_trials`` trials in this process: ``objective(trial, params)`` returns the trial's
    validation PR-AUC (and may raise optuna.TrialPruned). Returns the study."""
    study = create_study(storage, study_name, seed, resume)

    def wrapped(trial):
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        return objective(trial, suggest(trial, space))

    study.optimize(wrapped, n_trials=n_trials, gc_after_trial=True)
    return study


def study_summary(study) -> dict:
    """Trials table, best trial and parameter importances (with >= 2 complete trials) as JSON-ready data."""
    import optuna

    trials = []
    for t in study.get_trials():
        duration = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
        trials.append({"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
                       "duration_seconds": duration, "worker": t.user_attrs.get("worker"),
                       "last_step": t.last_step})
    done = completed_trials(study)
    summary: dict[str, Any] = {"study_name": study.study_name, "direction": "maximize", "objective": "validation pr_auc",
                               "n_trials": len(trials), "n_complete": len(done),
                               "n_pruned": sum(t["state"] == "PRUNED" for t in trials), "trials": trials,
                               "best_trial": None, "best_value": None, "best_params": None, "param_importances": None}
    if done:
        best = study.best_trial
        summary.update(best_trial=best.number, best_value=best.value, best_params=best.params)
    if len(done) >= 2:
        summary["param_importances"] = _param_importances(study)
    return summary


def _param_importances(study) -> dict | None:
    """Optuna's parameter importances, or None when it cannot tell the parameters apart.

    With few or tied trials Optuna (5's PED-ANOVA) warns and returns equal importances; reporting
    those as a finding would mislead, so the warning is logged and None kept instead.
    """
    import optuna

    importances, reason = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            importances = dict(optuna.importance.get_param_importances(study))
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            reason = exc
    for w in caught:
        if issubclass(w.category, UserWarning):  # Optuna's "importances will be equal"
            importances, reason = None, reason or w.message
        else:  # anything else (a deprecation, say) is passed on as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if reason is not None:
        log.info("parameter importances not available: %s", reason)
    return importances
