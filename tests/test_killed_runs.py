"""Killed runs lose no work: dnabert2-finetune (tiny, CPU) killed with SIGKILL mid-epoch, then
run again with --resume, ends with the weights and metrics of an uninterrupted run; SIGTERM (how
Galaxy and schedulers stop a job) exits 130 with the checkpoint kept, and resumes the same way."""

import signal

import pytest
from dnabert2_finetune_helpers import make_tokenizer
from run_and_kill import metrics, run, run_until_checkpoint, same_weights, tool
from synthetic_labelled import make_split

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("killed")
    train, val = make_split(tmp, n_train=128, n_val=32, length=100)
    tok = make_tokenizer(train, tmp / "tok.json")

    def command(output):
        return tool("dnabert2-finetune") + [
            "--train", train, "--val", val, "--init", "tiny", "--tokenizer", tok, "-o", output, "--max-length", "40",
            "--epochs", "2", "--batch-size", "8", "--checkpoint-every", "1", "--rc-augment", "--device", "cpu",
            "--threads", "1", "--seed", "3"]

    full = tmp / "full"
    done = run(command(full))
    assert done.returncode == 0, done.stderr
    return tmp, command, full


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_run_resumes_to_the_uninterrupted_result(job, sig):
    tmp, command, full = job
    output = tmp / f"killed-{sig.name}"
    code, step, err = run_until_checkpoint(command(output), output, step=5, sig=sig)
    assert 5 <= step < 32, "killed mid-run, after a checkpoint (16 steps an epoch, 2 epochs)"
    if sig == signal.SIGTERM:
        assert code == 130 and "Interrupted" in err and "Traceback" not in err
    else:
        assert code == -signal.SIGKILL
    assert not output.exists(), "no partial model directory"
    again = run(command(output))
    assert again.returncode == 2 and "--resume" in again.stderr, "the checkpoint is never discarded silently"
    resumed = run(command(output) + ["--resume"])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch" in resumed.stderr
    assert same_weights(full, output)
    assert metrics(full) == metrics(output)
