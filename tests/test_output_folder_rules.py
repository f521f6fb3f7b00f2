"""Nothing is lost: a tool that writes a folder (-o MODEL_DIR, report -o) refuses, with exit 2 and
the folder untouched, when an input lies inside it or it holds anything but an earlier output of
that tool; --force replaces an earlier output only after the new one is complete."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dnabert2_finetune_helpers import make_tokenizer
from synthetic_labelled import make_split

from enhancer_tools.cli import dnabert2_finetune, enhancernet_train, kmer_baseline, report
from enhancer_tools.errors import UserError
from enhancer_tools.io.output_folder import check_output_folder


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def user_folder(tmp_path):
    """The issue's reproduction: the splits and the user's notes in out/."""
    out = tmp_path / "out"
    out.mkdir()
    train, val = make_split(out, n_train=48, n_val=24, length=80)
    (out / "test.fa").write_text(val.read_text())
    (out / "notes.txt").write_text("my notes\n")
    return out, train, val


def _trainer_args(tool, out, train, val, tmp_path):
    args = ["--train", str(train), "--val", str(val), "-o", str(out)]
    if tool is dnabert2_finetune:
        tok = make_tokenizer(train, tmp_path / "tok.json")
        args += ["--init", "tiny", "--tokenizer", str(tok), "--max-length", "40", "--epochs", "1"]
    elif tool is enhancernet_train:
        args += ["--epochs", "1"]
    return args


@pytest.mark.parametrize("tool", [kmer_baseline, enhancernet_train, dnabert2_finetune], ids=lambda t: t.__name__)
def test_trainers_refuse_a_folder_holding_their_inputs(tool, user_folder, tmp_path):
    out, train, val = user_folder
    before = _snapshot(out)
    for extra in ([], ["--force"]):
        result = CliRunner().invoke(tool.main, _trainer_args(tool, out, train, val, tmp_path) + extra)
        assert result.exit_code == 2, result.output
        assert "lies inside the output folder" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert _snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == sorted(p for p in ["out", "tok.json"] if (tmp_path / p).exists())


def test_the_reproduction_from_the_shell(user_folder):
    out, train, val = user_folder
    before = _snapshot(out)
    script = Path(sys.executable).with_name("kmer-baseline")  # the console script a user runs
    proc = subprocess.run([str(script), "--train", str(train), "--val", str(val), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr
    assert _snapshot(out) == before


@pytest.mark.parametrize("tool", [kmer_baseline, enhancernet_train, dnabert2_finetune], ids=lambda t: t.__name__)
def test_a_foreign_folder_is_never_replaced(tool, tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    result = CliRunner().invoke(tool.main, _trainer_args(tool, out, train, val, tmp_path) + ["--force"])
    assert result.exit_code == 2 and "is not a model directory written by enhancer-tools" in result.stderr
    assert _snapshot(out) == {"notes.txt": b"keep"}


@pytest.mark.parametrize("tool", [enhancernet_train, dnabert2_finetune], ids=lambda t: t.__name__)
def test_a_foreign_folder_named_like_the_work_folder_is_never_used(tool, tmp_path):
    """A finished run removes OUT.work, so a user's folder of that name is refused, not emptied."""
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    work = tmp_path / "results.work"
    work.mkdir()
    (work / "notes.txt").write_text("keep")
    for extra in ([], ["--force"]):
        result = CliRunner().invoke(tool.main, _trainer_args(tool, tmp_path / "results", train, val, tmp_path) + extra)
        assert result.exit_code == 2 and "which no enhancer-tools run wrote there" in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(work) == {"notes.txt": b"keep"} and not (tmp_path / "results").exists()


def test_an_earlier_model_is_replaced_only_with_force(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    out = tmp_path / "kmer"
    args = ["--train", str(train), "--val", str(val), "-o", str(out), "--k", "3"]
    assert CliRunner().invoke(kmer_baseline.main, args).exit_code == 0
    first = _snapshot(out)
    again = CliRunner().invoke(kmer_baseline.main, args + ["--k", "4"])
    assert again.exit_code == 2 and "--force" in again.stderr and _snapshot(out) == first
    forced = CliRunner().invoke(kmer_baseline.main, args + ["--k", "4", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "config.json").read_text()) != json.loads(first["config.json"])
    assert sorted(os.listdir(tmp_path)) == ["kmer", "train.fa", "val.fa"], "no temporary or old folder left"


def test_force_keeps_the_old_model_until_the_new_one_is_complete(tmp_path, monkeypatch):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    out = tmp_path / "kmer"
    args = ["--train", str(train), "--val", str(val), "-o", str(out), "--k", "3"]
    assert CliRunner().invoke(kmer_baseline.main, args).exit_code == 0
    first = _snapshot(out)

    from enhancer_tools.training import fit

    real_save = fit.save_model_dir

    def save_then_fail(directory, **kwargs):
        real_save(directory, **kwargs)
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the weights were written

    monkeypatch.setattr(fit, "save_model_dir", save_then_fail)
    result = CliRunner().invoke(kmer_baseline.main, args + ["--force"])
    assert result.exit_code == 130
    assert _snapshot(out) == first
    assert sorted(os.listdir(tmp_path)) == ["kmer", "train.fa", "val.fa"]


def test_dnabert2_refuses_its_checkpoint_folder_and_inputs_inside_the_work_folder(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    out = tmp_path / "model"
    work = tmp_path / "model.work"
    work.mkdir()
    tok = make_tokenizer(train, work / "tok.json")
    result = CliRunner().invoke(dnabert2_finetune.main, ["--train", train, "--val", val, "--init", "tiny",
                                                         "--tokenizer", tok, "-o", out])
    assert result.exit_code == 2 and "tok.json lies inside the output folder" in result.stderr
    assert sorted(os.listdir(work)) == ["tok.json"]


def test_pointing_o_at_the_pretrained_checkpoint_is_refused(tmp_path):
    checkpoint = tmp_path / "DNABERT-2-117M"
    checkpoint.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (checkpoint / name).write_text("{}")
    with pytest.raises(UserError, match="lies inside the output folder"):
        check_output_folder(checkpoint, [tmp_path / "train.fa", checkpoint], force=True, is_ours=lambda p: True,
                            what="model directory")


def test_an_unfinished_checkpoint_is_kept_without_resume_or_force(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    out = tmp_path / "cnn"
    checkpoint = tmp_path / "cnn.work" / "checkpoint"
    checkpoint.mkdir(parents=True)
    (checkpoint / "latest.json").write_text('{"dir": "step-00000001", "step": 1}')
    args = ["--train", str(train), "--val", str(val), "-o", str(out), "--epochs", "1"]
    result = CliRunner().invoke(enhancernet_train.main, args)
    assert result.exit_code == 2 and "--resume" in result.stderr and "--force" in result.stderr
    assert (checkpoint / "latest.json").exists() and not out.exists()
    assert CliRunner().invoke(enhancernet_train.main, args + ["--force"]).exit_code == 0
    assert (out / "model.json").exists() and not checkpoint.exists()


def test_report_refuses_its_inputs_and_replaces_an_earlier_report_only_with_force(tmp_path):
    scores = tmp_path / "rep" / "kmer.tsv"
    scores.parent.mkdir()
    rows = ["id\tp\tlabel"] + [f"s{i}\t{(i % 7) / 7:.3f}\t{i % 2}" for i in range(40)]
    scores.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(report.main, ["--scores", f"kmer={scores}", "-o", tmp_path / "rep", "--bootstrap", "0",
                                              "--force"])
    assert result.exit_code == 2 and "lies inside the output folder" in result.stderr
    assert sorted(os.listdir(tmp_path / "rep")) == ["kmer.tsv"]

    out = tmp_path / "report"
    args = ["--scores", f"kmer={scores}", "-o", str(out), "--bootstrap", "0"]
    assert CliRunner().invoke(report.main, args).exit_code == 0
    first = _snapshot(out)
    again = CliRunner().invoke(report.main, args)
    assert again.exit_code == 2 and "--force" in again.stderr and _snapshot(out) == first
    assert CliRunner().invoke(report.main, args + ["--force"]).exit_code == 0
    assert (out / "multiqc_report.html").exists()


def test_model_directory_files_follow_the_umask(tmp_path):
    train, val = make_split(tmp_path, n_train=48, n_val=24, length=80)
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(kmer_baseline.main, ["--train", train, "--val", val, "-o", tmp_path / "m", "--k", "3"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "m").iterdir()}
    assert set(modes.values()) == {0o644}, modes  # safetensors alone would make model.safetensors 0600
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o755
