"""--resume after a kill ends with exactly the weights and metrics of an uninterrupted run (CPU)."""

import os

import pytest
import torch
from safetensors.torch import load_file
from synthetic_labelled import make_split
from trainer_helpers import run_fit


class Killed(Exception):
    pass


def _kill_after(k):
    def hook(step):
        if step == k:
            raise Killed(step)

    return hook


@pytest.fixture(autouse=True)
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("extra", [{}, pytest.param({"rc_augment": True, "grad_accum": 2, "dropout": 0.5},
                                                      marks=pytest.mark.slow)])
def test_resume_matches_uninterrupted(tmp_path, extra):
    train, val = make_split(tmp_path, n_train=96, n_val=48, length=80)
    params = {"epochs": 3, "checkpoint_every": 2, **extra}
    _, full = run_fit(train, val, tmp_path / "full", params=params)

    with pytest.raises(Killed):
        run_fit(train, val, tmp_path / "resumed", params=params, on_step=_kill_after(5))
    assert not os.path.exists(tmp_path / "resumed"), "a killed run must leave no model directory"
    assert os.path.isdir(str(tmp_path / "resumed") + ".work"), "the checkpoint must survive the kill"
    _, resumed = run_fit(train, val, tmp_path / "resumed", params=params, resume=True)

    assert resumed["validation"] == full["validation"]
    assert [e["val_pr_auc"] for e in resumed["epochs"]] == [e["val_pr_auc"] for e in full["epochs"]]
    assert [e["train_loss"] for e in resumed["epochs"]] == [e["train_loss"] for e in full["epochs"]]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not os.path.exists(str(tmp_path / "resumed") + ".work"), "a finished run removes its work folder"


def test_resume_refuses_other_settings(tmp_path):
    from enhancer_tools.errors import UserError

    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    with pytest.raises(Killed):
        run_fit(train, val, tmp_path / "m", params={"checkpoint_every": 1}, on_step=_kill_after(2))
    with pytest.raises(UserError, match="other data or settings"):
        run_fit(train, val, tmp_path / "m", params={"checkpoint_every": 1, "learning_rate": 0.1}, resume=True)
