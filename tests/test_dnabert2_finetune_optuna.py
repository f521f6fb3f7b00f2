"""dnabert2-finetune --trials: a 2-trial study with sqlite storage, and two processes sharing one
study both add trials (tiny model, CPU)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dnabert2_finetune_helpers import finetune, make_tokenizer
from synthetic_labelled import make_split

SPACE = "learning_rate: {low: 1.0e-3, high: 5.0e-3, log: true}\nbatch_size: [16]\n"


@pytest.fixture
def data(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=60)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    return train, val, make_tokenizer(train, tmp_path / "tok.json"), space


def _config(tmp_path) -> Path:
    from enhancer_tools.models.dnabert2 import DNABERT2Config

    path = tmp_path / "config.json"
    path.write_text(json.dumps(DNABERT2Config.tiny(hidden_size=32, num_hidden_layers=1, intermediate_size=64).to_dict()))
    return path


@pytest.mark.slow
def test_two_trials_with_sqlite_storage(tmp_path, data):
    train, val, tok, space = data
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    result = finetune("--train", train, "--val", val, "--init", _config(tmp_path), "--tokenizer", tok,
                      "-o", tmp_path / "m", "--max-length", 32, "--epochs", 1, "--trials", 2, "--optuna-storage",
                      storage, "--study-name", "s", "--search-space", space, "--threads", 1, "--quiet",
                      "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    optuna_summary = json.loads((tmp_path / "m.json").read_text())["optuna"]
    assert optuna_summary["n_trials"] == 2 and optuna_summary["n_complete"] == 2
    assert set(optuna_summary["best_params"]) == {"learning_rate", "batch_size", "warmup_ratio", "weight_decay",
                                                  "dropout"}
    assert 1e-3 <= optuna_summary["best_params"]["learning_rate"] <= 5e-3
    assert json.loads((tmp_path / "m" / "model.json").read_text())["kind"] == "dnabert2"


@pytest.mark.slow
def test_two_processes_share_one_study(tmp_path, data):
    train, val, tok, space = data
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    script = Path(sys.executable).with_name("dnabert2-finetune")
    cmd = [str(script), "--train", str(train), "--val", str(val), "--init", str(_config(tmp_path)), "--tokenizer",
           str(tok), "-o", str(tmp_path / "m"), "--max-length", "32", "--epochs", "1", "--trials", "1",
           "--optuna-storage", storage, "--study-name", "shared", "--search-space", str(space), "--threads", "1",
           "--quiet"]
    workers = [subprocess.Popen(cmd + ["--json", str(tmp_path / f"w{i}.json")], stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=240)
        assert w.returncode == 0, err
    import optuna

    trials = optuna.load_study(study_name="shared", storage=storage).get_trials()
    assert len(trials) == 2 and all(t.state.name == "COMPLETE" for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2, "each process ran one trial"
    assert (tmp_path / "m" / "model.json").exists()
