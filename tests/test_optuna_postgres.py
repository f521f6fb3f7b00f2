"""Optuna studies shared on a real PostgreSQL server (started by the test, see postgres_server.py),
and a study whose MedianPruner really prunes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from postgres_server import postgres_server
from synthetic_labelled import make_split
from trainer_helpers import run_fit

TINY_SPACE = "learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}\nbase_channels: [8]\ndense: [8]\n"


@pytest.fixture
def postgres_url():
    with postgres_server("optuna") as url:
        yield url


def _worker_cmd(train, val, out, storage, trials, space, json_path):
    script = Path(sys.executable).with_name("enhancernet-train")
    return [str(script), "--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "2", "--trials",
            str(trials), "--optuna-storage", storage, "--study-name", "shared", "--search-space", str(space),
            "--threads", "1", "--quiet", "--json", str(json_path)]


@pytest.mark.slow
def test_two_workers_share_a_postgres_study(tmp_path, postgres_url):
    import optuna

    n = 3  # trials per worker
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    space = tmp_path / "space.yaml"
    space.write_text(TINY_SPACE + "dropout: {low: 0.1, high: 0.5}\n")
    out = tmp_path / "m"
    workers = [subprocess.Popen(_worker_cmd(train, val, out, postgres_url, n, space, tmp_path / f"w{i}.json"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        for w in workers:
            _, err = w.communicate(timeout=240)
            assert w.returncode == 0, err
    finally:  # before the server stops
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    finished = [json.loads((tmp_path / f"w{i}.json").read_text()) for i in range(2)]

    # (the tools name psycopg as the driver themselves: SQLAlchemy before 2.1 defaults to psycopg2)
    storage = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(deepcopy=False)
    # every trial of both workers is in the study once, and each ended
    assert sorted(t.number for t in trials) == list(range(2 * n))
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}, [t.state.name for t in trials]
    per_worker = {}
    for t in trials:
        per_worker[t.user_attrs["worker"]] = per_worker.get(t.user_attrs["worker"], 0) + 1
    assert sorted(per_worker.values()) == [n, n], per_worker

    # the model directory holds the study's best trial, and nothing else is left behind
    best = study.best_trial
    prov = json.loads((out / "provenance.json").read_text())
    saved = prov["optuna_trial"]
    assert saved["study_name"] == "shared"
    saved_trial = study.trials[saved["number"]]
    assert saved_trial.state.name == "COMPLETE" and saved_trial.value == pytest.approx(best.value)
    assert prov["metrics"]["validation"]["pr_auc"] == pytest.approx(best.value)
    for name, value in saved_trial.params.items():
        assert prov["training_args"][name] == pytest.approx(value), name
    assert (out / "model.safetensors").exists() and (out / "calibration.json").exists()
    assert not os.path.exists(f"{out}.work"), os.listdir(f"{out}.work")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "space.yaml", "train.fa", "val.fa", "w0.json", "w1.json"]
    # the worker that finished last saw the whole study
    last = max(finished, key=lambda d: d["optuna"]["n_trials"])
    assert last["optuna"]["n_trials"] == 2 * n
    assert last["optuna"]["saved_trial"] == saved["number"]


@pytest.mark.slow
def test_median_pruner_prunes(tmp_path):
    """Enough trials and validations that the MedianPruner (2 start-up trials, pruning from the
    first validation) stops some trials; the study still runs every trial asked for."""
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    space = tmp_path / "space.yaml"
    space.write_text("learning_rate: {low: 1.0e-4, high: 3.0e-2, log: true}\nbase_channels: [8]\ndense: [8]\n"
                     "batch_size: [16]\n")
    # a private study: its sampler is seeded, so the same trials are pruned on every run
    _, metrics = run_fit(train, val, tmp_path / "m", trials=8, space_file=str(space),
                         params={"epochs": 3, "patience": 5})
    summary = metrics["optuna"]
    states = [t["state"] for t in summary["trials"]]
    assert len(states) == 8 and set(states) <= {"COMPLETE", "PRUNED"}, states
    assert summary["n_pruned"] >= 1, states
    assert summary["saved_trial"] == summary["best_trial"]
    assert summary["trials"][summary["best_trial"]]["state"] == "COMPLETE"
    assert not os.path.exists(str(tmp_path / "m") + ".work")


def test_a_later_worker_keeps_the_saved_trial(tmp_path, postgres_url):
    """A worker that finds the study's best trial already in the output leaves the output as it is
    (equal values: the saved one is kept), and the model records which trial it is."""
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    space = tmp_path / "space.yaml"  # one point: both trials train the same model
    space.write_text("learning_rate: [3.0e-3]\nbase_channels: [8]\ndense: [8]\ndropout: [0.2]\nbatch_size: [16]\n"
                     "weight_decay: [0.01]\n")
    out = tmp_path / "m"
    request = dict(trials=1, space_file=str(space), storage=postgres_url, study_name="again", threads=1,
                   params={"epochs": 1})
    _, first = run_fit(train, val, out, **request)
    assert first["optuna"]["saved_trial"] == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["optuna_trial"] == {"study_name": "again", "number": 0, "value": first["validation"]["pr_auc"]}
    before = os.stat(out / "model.safetensors")
    _, second = run_fit(train, val, out, force=True, **request)
    summary = second["optuna"]
    assert summary["n_trials"] == 2 and [t["value"] for t in summary["trials"]] == [first["validation"]["pr_auc"]] * 2
    assert summary["saved_trial"] == 0
    assert summary["param_importances"] is None, "identical trials cannot tell the parameters apart"
    after = os.stat(out / "model.safetensors")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the output was written again"
    assert not os.path.exists(f"{out}.work")
