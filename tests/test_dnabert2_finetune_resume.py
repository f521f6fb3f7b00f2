"""dnabert2-finetune --resume after a kill ends with the weights and metrics of an uninterrupted run
(CPU, tiny model), reusing the cached token ids."""

import os
from pathlib import Path

import pytest
import torch
from dnabert2_finetune_helpers import make_tokenizer, run_tiny_fit
from safetensors.torch import load_file
from synthetic_labelled import make_split


class Killed(Exception):
    pass


def _kill_after(k):
    def hook(step):
        if step == k:
            raise Killed(step)

    return hook


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_resume_matches_uninterrupted(tmp_path, caplog):
    train, val = make_split(tmp_path, n_train=64, n_val=32, length=60)
    tok = make_tokenizer(train, tmp_path / "tok.json")
    params = {"epochs": 2, "checkpoint_every": 2, "rc_augment": True}
    _, full = run_tiny_fit(train, val, tmp_path / "full", tok, params=params)

    with pytest.raises(Killed):
        run_tiny_fit(train, val, tmp_path / "resumed", tok, params=params, on_step=_kill_after(5))
    work = Path(str(tmp_path / "resumed") + ".work")
    assert not (tmp_path / "resumed").exists() and (work / "checkpoint").is_dir()
    cached = sorted(p.name for p in (work / "cache").glob("tokens-*.npz"))
    assert len(cached) == 4, cached  # train and val, each with its reverse complement
    caplog.set_level("INFO", logger="enhancer_tools.models.token_adapter")
    _, resumed = run_tiny_fit(train, val, tmp_path / "resumed", tok, params=params, resume=True)
    assert sum("read from" in r.getMessage() for r in caplog.records) == 4

    assert resumed["validation"] == full["validation"]
    assert [e["train_loss"] for e in resumed["epochs"]] == [e["train_loss"] for e in full["epochs"]]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not os.path.exists(work), "a finished run removes its work folder"
