"""EnhancerNet's issue-18 changes: shift (jitter) augmentation in training only, the
--shift/--base-channels options, and model directories written before them still loading."""

import json

import pytest
import torch
from click.testing import CliRunner
from synthetic_labelled import make_split

from enhancer_tools.cli.enhancernet_train import main
from enhancer_tools.models.enhancernet import (
    EnhancerNet,
    EnhancerNetConfig,
    OneHotAdapter,
)
from enhancer_tools.models.kinds.enhancernet import (
    EnhancerNetHyperparameters,
    architecture,
)
from enhancer_tools.models.registry import load_model


def _batch(width=64, n=8):
    torch.manual_seed(0)
    seqs = ["".join("ACGT"[i] for i in torch.randint(0, 4, (width,)).tolist()) for _ in range(n)]
    return OneHotAdapter(width).collate(OneHotAdapter(width).encode(seqs))["x"]


def test_jitter_moves_each_sequence_within_the_shift():
    net = EnhancerNet(EnhancerNetConfig(width=64, channels=[4, 4, 4], kernel_sizes=[3, 3, 3], shift=5))
    x = _batch()
    torch.manual_seed(1)
    moved = net.jitter(x)
    assert moved.shape == x.shape
    for row in range(x.shape[0]):
        matches = [k for k in range(-5, 6)
                   if torch.equal(moved[row], torch.nn.functional.pad(x[row], (5, 5))[:, 5 - k:5 - k + 64])]
        assert matches, "each row is the input moved by one offset in [-5, 5], zero-filled"


def test_shift_only_in_training_mode():
    cfg = EnhancerNetConfig(width=64, channels=[4, 4, 4], kernel_sizes=[3, 3, 3], dropout=0.0, shift=8)
    torch.manual_seed(2)
    net = EnhancerNet(cfg)
    x = _batch()
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))
        net.train()
        torch.manual_seed(3)
        a = net(x)
        torch.manual_seed(4)
        b = net(x)
    assert not torch.equal(a, b)


def test_config_without_shift_loads_as_before():
    old = {"model_type": "enhancernet", "width": 200, "channels": [32, 48, 64], "kernel_sizes": [15, 9, 5],
           "pool": 4, "dense": 64, "dropout": 0.3, "rc_share": True}
    cfg = EnhancerNetConfig.from_dict(old)
    assert cfg.shift == 0
    assert cfg.as_dict() == {**old, "shift": 0, "replicates": 1}


def test_old_model_directory_still_loads(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    out = tmp_path / "m"
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "1",
                                       "--threads", "1", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    seqs = ["ACGT" * 20, "GGCC" * 20]
    before = load_model(out).logits(seqs)
    config = json.loads((out / "config.json").read_text())
    del config["shift"]  # a config.json from before the shift option
    (out / "config.json").write_text(json.dumps(config))
    assert load_model(out).logits(seqs) == pytest.approx(before)


def test_defaults_reach_the_architecture():
    hp = EnhancerNetHyperparameters()
    cfg = architecture(hp)
    b = hp.base_channels
    assert cfg.channels == [b, b * 3 // 2, 2 * b] and cfg.shift == hp.shift_bp and cfg.rc_share


def test_shift_and_base_channels_options(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    out, metrics = tmp_path / "m", tmp_path / "m.json"
    result = CliRunner().invoke(main, ["--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "1",
                                       "--shift", "3", "--base-channels", "8", "--threads", "1", "--quiet",
                                       "--json", str(metrics)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["shift"] == 3 and config["channels"] == [8, 12, 16]
    hp = json.loads(metrics.read_text())["hyperparameters"]
    assert hp["shift_bp"] == 3 and hp["base_channels"] == 8
