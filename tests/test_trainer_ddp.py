"""The trainer under torch.distributed (as torchrun starts it): gloo on CPU, world size 1."""

import gc
import socket

from synthetic_labelled import make_split
from trainer_helpers import run_fit

from enhancer_tools.training import distributed
from enhancer_tools.models.hyperparameters import TrainingSettings
from enhancer_tools.training.trainer import epoch_batches, shard


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_world_size_one_matches_single_process(tmp_path, monkeypatch):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=80)
    _, single = run_fit(train, val, tmp_path / "single", params={"epochs": 1})
    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(key, value)
    registered = []
    monkeypatch.setattr(distributed.atexit, "register", registered.append)
    run, ddp = run_fit(train, val, tmp_path / "ddp", params={"epochs": 1})
    # a collection at exit, while the interpreter is whole: without it a gloo rank could abort in
    # interpreter teardown (CHANGELOG, Fixed)
    assert gc.collect in registered
    assert run.extra["model"]["world_size"] == 1
    assert (tmp_path / "ddp" / "model.safetensors").exists()
    assert ddp["validation"]["roc_auc"] == single["validation"]["roc_auc"]
    assert distributed.current().world_size == 1  # the process group was left at the end


def test_batches_shard_evenly_over_ranks():
    config = TrainingSettings(batch_size=4)
    batches = epoch_batches(30, 0, config, 3, None)
    shards = [shard(batches, distributed.DistContext(rank, 3)) for rank in range(3)]
    assert len({len(s) for s in shards}) == 1, "every rank runs the same number of steps"
    seen = [tuple(idx) for s in shards for idx, _ in s]
    assert len(seen) == len(set(seen))
