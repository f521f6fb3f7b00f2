"""EnhancerNet replicates (--replicates n): n networks trained apart (seeds s, s+1, ...), saved
in one model directory and scored by their mean log-odds everywhere a model is read."""

import json
import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file
from synthetic_labelled import make_split
from trainer_helpers import run_fit

from enhancer_tools.cli.enhancernet_train import main
from enhancer_tools.errors import UserError
from enhancer_tools.models.enhancernet import (
    EnhancerNet,
    EnhancerNetConfig,
    EnhancerNetReplicates,
    OneHotAdapter,
    build,
)
from enhancer_tools.models.registry import load_model
from enhancer_tools.report import run_stats as rs
from enhancer_tools.report.multiqc_content import _training_curves

SMALL = {"width": 64, "channels": [4, 6, 8], "kernel_sizes": [5, 3, 3], "dense": 8}


class Killed(Exception):
    pass


def _x(n=6, width=64, seed=0):
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), width)) for _ in range(n)]
    adapter = OneHotAdapter(width)
    return adapter.collate(adapter.encode(seqs))["x"]


def _train(train, val, out, *options):
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "2",
                                       "--base-channels", "8", "--threads", "1", "--quiet", *options],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return load_file(out / "model.safetensors")


def test_one_replicate_is_the_plain_network():
    net = build(EnhancerNetConfig(**SMALL))
    assert type(net) is EnhancerNet
    assert all(key.startswith(("features.", "head.")) for key in net.state_dict())  # older model directories load


def test_replicates_score_by_their_mean():
    torch.manual_seed(3)
    net = build(EnhancerNetConfig(**SMALL, replicates=3)).eval()
    assert isinstance(net, EnhancerNetReplicates) and len(net.members) == 3
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(net(x), torch.stack([m(x) for m in net.members], 1).mean(1))


def test_each_replicate_is_the_single_run_of_its_seed(tmp_path):
    """Trained apart: replicate r of --seed s has exactly the weights a single run with seed s + r
    gets (its own initialisation, batch order, dropout and early stopping)."""
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    both = _train(train, val, tmp_path / "x2", "--replicates", "2", "--seed", "5", "--json", str(tmp_path / "x2.json"))
    for r, seed in enumerate((5, 6)):
        single = _train(train, val, tmp_path / f"s{seed}", "--seed", str(seed), "--replicates", "1")
        for key, value in single.items():
            assert torch.equal(both[f"members.{r}.{key}"], value), (r, key)
    assert not torch.equal(both["members.0.head.5.weight"], both["members.1.head.5.weight"])
    assert json.loads((tmp_path / "x2" / "config.json").read_text())["replicates"] == 2
    run = json.loads((tmp_path / "x2.json").read_text())
    assert run["hyperparameters"]["replicates"] == 2 and len(run["best_epoch"]) == 2
    assert {e["replicate"] for e in run["epochs"]} == {1, 2}

    model = load_model(tmp_path / "x2")
    seqs = ["ACGT" * 20, "GGCC" * 20, "ATAT" * 20]
    each = [load_model(tmp_path / f"s{seed}").logits(seqs) for seed in (5, 6)]
    np.testing.assert_allclose(model.logits(seqs), np.mean(each, axis=0), atol=1e-5)
    # the validation figures are those of the mean log-odds the saved model gives
    val_metrics = json.loads((tmp_path / "x2" / "provenance.json").read_text())["metrics"]["validation"]
    assert 0 <= val_metrics["roc_auc"] <= 1


def test_resume_in_the_second_replicate_matches_uninterrupted(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    params = {"epochs": 2, "replicates": 2, "checkpoint_every": 2}
    run_fit(train, val, tmp_path / "full", params=params)
    calls = []

    def kill_in_second_replicate(step):
        calls.append(step)
        if len(calls) > 1 and step == 3 and calls.count(1) == 2:  # step 3 of replicate 2
            raise Killed(step)

    with pytest.raises(Killed):
        run_fit(train, val, tmp_path / "resumed", params=params, on_step=kill_in_second_replicate)
    work = str(tmp_path / "resumed") + ".work"
    assert sorted(os.listdir(os.path.join(work, "checkpoint"))) == ["replicate-1", "replicate-2"]
    run_fit(train, val, tmp_path / "resumed", params=params, resume=True)
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not os.path.exists(work)


def test_replicates_with_a_search_is_refused(tmp_path):
    train, val = make_split(tmp_path, n_train=16, n_val=8, length=80)
    with pytest.raises(UserError, match="--replicates with --trials"):
        run_fit(train, val, tmp_path / "m", params={"replicates": 2}, user_set=frozenset({"replicates"}), trials=2)
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(tmp_path / "m"),
                                       "--replicates", "0", "--quiet"])
    assert result.exit_code == 2 and "--replicates" in result.output
    assert not (tmp_path / "m").exists()


def test_training_curves_keep_each_replicate_apart():
    """report's training curves: one series per replicate, not one overwritten by the next."""
    epochs = [{"replicate": r, "epoch": e, "val_pr_auc": 0.5 + r / 10 + e / 100} for r in (1, 2) for e in (1, 2)]
    run = rs.ToolRun(name="enhancernet-train", tool="enhancernet-train", path="cnn.json", data={"epochs": epochs})
    (section,) = _training_curves([run])
    names = [label["name"] for label in section["pconfig"]["data_labels"]]
    assert names == ["val_pr_auc"], "the replicate number is a series, not a metric"
    curves = section["data"][0]
    assert curves["enhancernet-train (replicate 2)"] == {"1": 0.71, "2": 0.72}
    assert curves["enhancernet-train (replicate 1)"] == {"1": 0.61, "2": 0.62}


def test_a_search_trains_single_networks_when_replicates_is_the_default(tmp_path):
    """The default --replicates (3) is for a plain run: with --trials every trial, and the model kept,
    is one network."""
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=80)
    _, metrics = run_fit(train, val, tmp_path / "m", params={"replicates": 3, "epochs": 1}, trials=2)
    assert metrics["hyperparameters"]["replicates"] == 1
    assert json.loads((tmp_path / "m" / "config.json").read_text())["replicates"] == 1


def test_the_default_is_three_replicates(tmp_path):
    train, val = make_split(tmp_path, n_train=32, n_val=16, length=64)
    _train(train, val, tmp_path / "m", "--epochs", "1")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["replicates"] == 3
