"""The command-line options every torch trainer shares (Optuna study, resume, device, seed,
threads), declared once, and their mapping onto ``training.fit.FitRequest``."""

from __future__ import annotations

from collections.abc import Callable

import click

_OPTIONS = [
    click.option("--trials", type=click.IntRange(0), default=0, show_default=True,
                 help="Optuna trials to run (0: one run with the settings given)."),
    click.option("--optuna-storage", default=None,
                 help="Study storage shared by workers, e.g. sqlite:///study.db or postgresql://user@host/db."),
    click.option("--study-name", default=None, help="Optuna study name (needed to share a study)."),
    click.option("--search-space", "space_file", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="YAML/JSON search space merged over the default one (see enhancer_tools.training.hpo)."),
    click.option("--resume", is_flag=True, help="Continue from the checkpoint in MODEL_DIR.work/ (or the shared study)."),
    click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True),
    click.option("--seed", type=int, default=1, show_default=True),
    click.option("-j", "--threads", type=click.IntRange(1), default=None,
                 help="CPU threads for torch (default: torch's choice)."),
]
# click parameter -> FitRequest field
_REQUEST_FIELDS = {"trials": "trials", "optuna_storage": "storage", "study_name": "study_name",
                   "space_file": "space_file", "resume": "resume", "device": "device", "seed": "seed",
                   "threads": "threads"}


def trainer_options(func: Callable) -> Callable:
    """Add the shared trainer options to a click command."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def request_fields(options: dict) -> dict:
    """Take the shared trainer options out of a command's ``options`` as FitRequest keywords."""
    return {field: options.pop(param) for param, field in _REQUEST_FIELDS.items()}
