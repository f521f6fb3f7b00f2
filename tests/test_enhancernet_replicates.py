"""EnhancerNet replicates (--replicates n): n networks from different initialisations in one
model, each trained on its own loss, scored by their mean log-odds everywhere a model is read."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from synthetic_labelled import make_split

from enhancer_tools.cli.enhancernet_train import main
from enhancer_tools.models.enhancernet import (
    EnhancerNet,
    EnhancerNetConfig,
    EnhancerNetReplicates,
    OneHotAdapter,
    ReplicateOutput,
    build,
)
from enhancer_tools.models.registry import load_model
from enhancer_tools.training.trainer import training_loss

SMALL = {"width": 64, "channels": [4, 6, 8], "kernel_sizes": [5, 3, 3], "dense": 8}


def _x(n=6, width=64, seed=0):
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), width)) for _ in range(n)]
    adapter = OneHotAdapter(width)
    return adapter.collate(adapter.encode(seqs))["x"]


def test_one_replicate_is_the_plain_network():
    net = build(EnhancerNetConfig(**SMALL))
    assert type(net) is EnhancerNet
    assert all(key.startswith(("features.", "head.")) for key in net.state_dict())  # older model directories load


def test_replicates_differ_and_score_by_their_mean():
    torch.manual_seed(3)
    net = build(EnhancerNetConfig(**SMALL, replicates=3))
    assert isinstance(net, EnhancerNetReplicates) and len(net.members) == 3
    first = [m.features[0].weight for m in net.members]
    assert not torch.equal(first[0], first[1]), "each replicate has its own initialisation"
    x = _x()
    net.eval()
    with torch.no_grad():
        each = torch.stack([m(x) for m in net.members], 1)
        torch.testing.assert_close(net(x), each.mean(1))
        net.train()
        torch.manual_seed(5)
        out = net(x)
    assert isinstance(out, ReplicateOutput) and out.member_logodds.shape == (6, 3)
    torch.testing.assert_close(out.logits, out.member_logodds.mean(1))


def test_each_replicate_learns_from_its_own_loss():
    members = torch.tensor([[2.0, -1.0], [-0.5, 0.5], [0.3, 3.0]], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0])
    training_loss(ReplicateOutput(members.mean(1), members), y).backward()
    expected = (torch.sigmoid(members.detach()) - y[:, None]) / members.numel()
    torch.testing.assert_close(members.grad, expected)  # the mean's loss would give every column one gradient
    single = torch.tensor([2.0, -0.5, 0.3])
    assert float(training_loss(single, y)) == pytest.approx(
        float(torch.nn.functional.binary_cross_entropy_with_logits(single, y)))


def test_cli_trains_replicates_that_load_and_score(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    out, metrics = tmp_path / "m", tmp_path / "m.json"
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "1",
                                       "--base-channels", "8", "--replicates", "2", "--threads", "1", "--quiet",
                                       "--json", str(metrics)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["replicates"] == 2
    assert json.loads(metrics.read_text())["hyperparameters"]["replicates"] == 2
    model = load_model(out)
    net = model.scorer.model
    assert isinstance(net, EnhancerNetReplicates)
    net.eval()
    seqs = ["ACGT" * 20, "GGCC" * 20, "ATAT" * 20]
    x = OneHotAdapter(80).collate(OneHotAdapter(80).encode(seqs))["x"]
    with torch.no_grad():
        each = np.stack([m(x).numpy() for m in net.members], 1)
    assert np.abs(each[:, 0] - each[:, 1]).max() > 1e-4, "the two replicates were trained apart"
    np.testing.assert_allclose(model.logits(seqs), each.mean(1), atol=1e-5)


def test_replicates_option_is_checked(tmp_path):
    train, val = make_split(tmp_path, n_train=16, n_val=8, length=80)
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(tmp_path / "m"),
                                       "--replicates", "0", "--quiet"])
    assert result.exit_code == 2 and "--replicates" in result.output
    assert not (tmp_path / "m").exists()
