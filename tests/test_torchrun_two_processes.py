"""Several processes, one job: `torchrun --nproc_per_node 2` (gloo on CPU) for both torch
trainers. Only rank 0 writes the run info, model directory, checkpoints and logs; early stopping
is rank 0's decision; each rank's RNG state is checkpointed, so resuming a killed two-process run
ends with the weights of an uninterrupted one; token ids are computed once, by rank 0."""

import json
import signal

import pytest
from dnabert2_finetune_helpers import make_tokenizer
from run_and_kill import metrics, run, run_until_checkpoint, same_weights, torchrun
from synthetic_labelled import make_split

pytestmark = pytest.mark.slow


def _enhancernet(train, val, output, *extra):
    return torchrun("enhancer_tools.cli.enhancernet_train") + [
        "--train", train, "--val", val, "-o", output, "--epochs", "3", "--batch-size", "8", "--patience", "1",
        "--learning-rate", "0.05", "--checkpoint-every", "1", "--rc-augment", "--device", "cpu", "--threads", "1",
        "--replicates", "1", "--seed", "5", "--json", f"{output}.json", *extra]  # one network: one checkpoint folder


def test_enhancernet_two_processes_killed_and_resumed_equals_uninterrupted(tmp_path):
    train, val = make_split(tmp_path, n_train=128, n_val=40, length=120)
    full = tmp_path / "full"
    done = run(_enhancernet(train, val, full))
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "full.json").read_text())
    assert info["model"]["world_size"] == 2 and info["counts"]["train_sequences"] == 128
    epochs = metrics(full)["epochs"]
    validation_lines = [line for line in done.stderr.splitlines() if "val PR-AUC" in line]
    assert len(validation_lines) == len(epochs), "one log line per validation: rank 1 stays quiet"
    assert not any("rank 1" in line for line in done.stderr.splitlines())

    killed = tmp_path / "killed"
    code, step, _ = run_until_checkpoint(_enhancernet(train, val, killed), killed, step=3)
    assert code == -signal.SIGKILL and 3 <= step < 24 and not killed.exists()
    resumed = run(_enhancernet(train, val, killed, "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert same_weights(full, killed)
    assert metrics(full) == metrics(killed)


def test_enhancernet_two_processes_stop_early_together(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=24, length=120)
    out = tmp_path / "m"
    # with patience 1 the first validation that is not better stops both ranks, long before 40 epochs
    done = run(torchrun("enhancer_tools.cli.enhancernet_train") + [
        "--train", train, "--val", val, "-o", out, "--epochs", "40", "--batch-size", "8", "--patience", "1",
        "--device", "cpu", "--threads", "1", "--json", tmp_path / "m.json"], timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "m.json").read_text())
    assert info["stopped_early"] is True and len(info["epochs"]) < 40
    assert info["optimizer_steps"] == 4 * len(info["epochs"]), "both ranks ran every step of every epoch"


def test_dnabert2_two_processes_tokenise_once(tmp_path):
    train, val = make_split(tmp_path, n_train=64, n_val=24, length=80)
    tok = make_tokenizer(train, tmp_path / "tok.json")
    out = tmp_path / "dnabert2"
    done = run(torchrun("enhancer_tools.cli.dnabert2_finetune") + [
        "--train", train, "--val", val, "--init", "tiny", "--tokenizer", tok, "-o", out, "--max-length", "40",
        "--epochs", "2", "--batch-size", "8", "--device", "cpu", "--threads", "1", "--debug",
        "--json", tmp_path / "run.json"])
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    tokenised = [line for line in lines if "tokenised" in line]
    read_back = [line for line in lines if "read from" in line]
    # train and val, each with its reverse complement (--init trains on both strands by default)
    assert len(tokenised) == 4 and not any("rank 1" in line for line in tokenised), tokenised
    assert len(read_back) == 4 and all("rank 1" in line for line in read_back), read_back
    assert (out / "model.json").exists() and (out / "tokenizer.json").exists()
    assert json.loads((tmp_path / "run.json").read_text())["model"]["world_size"] == 2
    assert not (tmp_path / "dnabert2.work").exists()
