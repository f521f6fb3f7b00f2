"""Optuna search: a 2-trial study works, and two processes sharing one sqlite study both add trials."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_labelled import make_split
from trainer_helpers import run_fit

from enhancer_tools.errors import UserError
from enhancer_tools.training.hpo import merge_spaces, read_search_space

TINY_SPACE = "learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}\nbase_channels: [8]\ndense: [8]\n"


@pytest.mark.slow
def test_two_trials_in_one_process(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    space = tmp_path / "space.yaml"
    space.write_text(TINY_SPACE + "dropout: {low: 0.1, high: 0.4}\n")
    run, metrics = run_fit(train, val, tmp_path / "m", trials=2, space_file=str(space), params={"epochs": 1})
    summary = metrics["optuna"]
    assert summary["n_trials"] == 2 and summary["n_complete"] == 2
    assert [t["number"] for t in summary["trials"]] == [0, 1]
    # the file overrides these entries of the default space; the others (batch_size, weight_decay) stay
    assert set(summary["best_params"]) == {"learning_rate", "base_channels", "dense", "dropout", "batch_size", "weight_decay"}
    assert summary["best_params"]["base_channels"] == 8
    assert summary["saved_trial"] == summary["best_trial"]
    tied = summary["trials"][0]["value"] == summary["trials"][1]["value"]
    assert (summary["param_importances"] is None) == tied, "importances exactly when the trials can be told apart"
    best = summary["trials"][summary["best_trial"]]
    assert metrics["validation"]["pr_auc"] == pytest.approx(best["value"])
    assert metrics["hyperparameters"]["learning_rate"] == pytest.approx(summary["best_params"]["learning_rate"])
    assert (tmp_path / "m" / "model.safetensors").exists()
    assert not os.path.exists(str(tmp_path / "m") + ".work")


@pytest.mark.slow
def test_two_processes_share_one_study(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    space = tmp_path / "space.yaml"
    space.write_text(TINY_SPACE)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    script = Path(sys.executable).with_name("enhancernet-train")
    cmd = [str(script), "--train", str(train), "--val", str(val), "-o", str(tmp_path / "m"), "--epochs", "1",
           "--trials", "1", "--optuna-storage", storage, "--study-name", "shared", "--search-space", str(space),
           "--threads", "1", "--quiet"]
    workers = [subprocess.Popen(cmd + ["--json", str(tmp_path / f"w{i}.json")], stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=240)
        assert w.returncode == 0, err
    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    assert len(trials) == 2 and all(t.state.name == "COMPLETE" for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2, "each process ran one trial"
    for i in range(2):
        data = json.loads((tmp_path / f"w{i}.json").read_text())
        assert data["optuna"]["study_name"] == "shared" and data["optuna"]["n_trials"] >= 1
    assert (tmp_path / "m" / "model.json").exists()


def test_search_space_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: {low: 1.0e-2}\n")
    with pytest.raises(UserError, match="needs 'low' and 'high'"):
        read_search_space(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(UserError, match="mapping"):
        read_search_space(bad)
    bad.write_text("dropout: {low: 0.5, high: 0.1}\n")
    with pytest.raises(UserError, match="low is above high"):
        read_search_space(bad)


def test_fixed_parameters_leave_the_space():
    space = merge_spaces({"learning_rate": {"low": 1e-4, "high": 1e-2}, "batch_size": [32, 64]}, {"dropout": [0.1]},
                         {"batch_size": 64})
    assert set(space) == {"learning_rate", "dropout"}


def _study_with_values(values):
    import optuna
    from optuna.distributions import FloatDistribution

    study = optuna.create_study(direction="maximize")
    space = {"learning_rate": FloatDistribution(1e-5, 1e-3, log=True), "dropout": FloatDistribution(0.0, 0.5)}
    for i, value in enumerate(values):
        study.add_trial(optuna.trial.create_trial(params={"learning_rate": 1e-4 * (i + 1), "dropout": 0.1 * (i + 1)},
                                                  distributions=space, value=value))
    return study


def test_tied_trials_give_no_importances_rather_than_a_warning():
    """Two trials with the same value (a tiny model on tiny data) made Optuna 5 warn, and CI turned it into an error."""
    from enhancer_tools.training.hpo import study_summary

    assert study_summary(_study_with_values([0.5, 0.5]))["param_importances"] is None
    importances = study_summary(_study_with_values([0.4, 0.6, 0.7]))["param_importances"]
    assert set(importances) == {"learning_rate", "dropout"}
