"""dnabert2-pretrain under `torchrun --nproc_per_node 2` (gloo on CPU): rank 0 alone writes the run
info, the output and the log; the ranks train on different tiles; a killed two-process run resumed
with --resume ends with the weights of an uninterrupted one."""

import json
import signal

import pytest
from pretrain_helpers import small_genome, small_tokenizer
from run_and_kill import run, run_until_checkpoint, same_weights, torchrun

pytestmark = pytest.mark.slow


def _pretrain(genome, tokenizer, output, *extra):
    return torchrun("enhancer_tools.cli.dnabert2_pretrain") + [
        "--genome", genome, "--init", "tiny", "--tokenizer", tokenizer, "-o", output, "--max-length", "40",
        "--steps", "6", "--batch-size", "4", "--grad-accum", "2", "--eval-every", "3", "--checkpoint-every", "1",
        "--learning-rate", "1e-3", "--val-fraction", "0.1", "--device", "cpu", "--threads", "1",
        "--json", f"{output}.json", *extra]


def test_two_processes_killed_and_resumed_equals_uninterrupted(tmp_path):
    genome = small_genome(tmp_path)
    tokenizer = small_tokenizer(genome, tmp_path / "tokenizer.json")
    full = tmp_path / "full"
    done = run(_pretrain(genome, tokenizer, full))
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "full.json").read_text())
    assert info["model"]["world_size"] == 2 and info["steps"] == 6
    # 6 steps x 2 micro-batches x 4 tiles x 2 ranks, every tile 40 tokens or fewer
    assert 0 < info["tokens_seen"] <= 6 * 2 * 4 * 2 * 40 and info["tokens_seen"] > 6 * 2 * 4 * 40
    lines = [line for line in done.stderr.splitlines() if "validation masked accuracy" in line]
    assert len(lines) == 3 and not any("rank 1" in line for line in done.stderr.splitlines())

    killed = tmp_path / "killed"
    code, step, _ = run_until_checkpoint(_pretrain(genome, tokenizer, killed), killed, step=2)
    assert code == -signal.SIGKILL and 2 <= step < 6 and not killed.exists()
    resumed = run(_pretrain(genome, tokenizer, killed, "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert same_weights(full, killed)
    assert json.loads((tmp_path / "killed.json").read_text())["pretraining"] == info["pretraining"]
