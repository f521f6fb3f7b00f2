"""Atomic output: all outputs appear together on success; errors and Ctrl-C leave nothing."""

import gzip
import os
import signal
import subprocess
import sys
import time

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs, atomic_open, refuse_overwriting_inputs


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_success_renames_every_output(tmp_path):
    with AtomicOutputs() as out:
        a = out.open(tmp_path / "a.fa")
        b = out.open(tmp_path / "b.bin", "wb")
        a.write(">x\nACGT\n")
        b.write(b"\x00\x01")
        assert _listing(tmp_path) != ["a.fa", "b.bin"]  # still temporary names
        assert not (tmp_path / "a.fa").exists()
    assert _listing(tmp_path) == ["a.fa", "b.bin"]
    assert (tmp_path / "a.fa").read_text() == ">x\nACGT\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert oct((tmp_path / "a.fa").stat().st_mode & 0o777) == oct(0o644)


def test_temporary_files_live_in_the_target_folder(tmp_path):
    with AtomicOutputs() as out:
        out.open(tmp_path / "a.txt").write("x")
        hidden = [n for n in _listing(tmp_path) if n.startswith(".a.txt.") and n.endswith(".tmp")]
        assert len(hidden) == 1


@pytest.mark.parametrize("exc", [RuntimeError("boom"), UserError("bad input", "in.bed", 3), KeyboardInterrupt(), SystemExit(2)])
def test_exception_mid_write_leaves_nothing(tmp_path, exc):
    with pytest.raises(type(exc)):
        with AtomicOutputs() as out:
            fh = out.open(tmp_path / "a.fa")
            fh.write(">x\n" + "ACGT" * 100_000 + "\n")
            out.open(tmp_path / "b.txt.gz").write("half")
            lib = out.path(tmp_path / "c.json")
            with open(lib, "w") as f:
                f.write("{")
            folder = out.directory(tmp_path / "model")
            (open(os.path.join(folder, "w.bin"), "wb")).close()
            raise exc
    assert _listing(tmp_path) == []


def test_existing_output_is_kept_when_the_run_fails(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("new, half written")
            raise RuntimeError
    assert target.read_text() == "old\n"
    assert _listing(tmp_path) == ["a.txt"]


def test_existing_output_is_replaced_on_success(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old\n")
    with atomic_open(target) as fh:
        fh.write("new\n")
    assert target.read_text() == "new\n"
    assert _listing(tmp_path) == ["a.txt"]


def test_gz_name_is_written_compressed(tmp_path):
    with AtomicOutputs() as out:
        out.open(tmp_path / "x.tsv.gz").write("a\tb\n")
    assert gzip.decompress((tmp_path / "x.tsv.gz").read_bytes()) == b"a\tb\n"


def test_text_outputs_use_lf_line_ends(tmp_path):
    with atomic_open(tmp_path / "x.txt") as fh:
        fh.write("a\nb\n")
    assert (tmp_path / "x.txt").read_bytes() == b"a\nb\n"


def test_path_for_libraries_writing_by_name(tmp_path):
    with AtomicOutputs() as out:
        tmp = out.path(tmp_path / "lib.out")
        with open(tmp, "w") as fh:
            fh.write("data")
    assert (tmp_path / "lib.out").read_text() == "data"
    assert _listing(tmp_path) == ["lib.out"]


def test_directory_output_replaces_the_old_folder_only_when_asked(tmp_path):
    old = tmp_path / "model"
    old.mkdir()
    (old / "stale.bin").write_text("stale")
    with pytest.raises(UserError, match="not replaced"):
        with AtomicOutputs() as out:
            open(os.path.join(out.directory(old), "model.json"), "w").close()
    assert _listing(old) == ["stale.bin"]
    assert _listing(tmp_path) == ["model"]
    with AtomicOutputs() as out:
        folder = out.directory(old, replace=True)
        with open(os.path.join(folder, "model.json"), "w") as fh:
            fh.write("{}")
    assert _listing(old) == ["model.json"]
    assert _listing(tmp_path) == ["model"]


def test_directory_output_failure_keeps_the_old_folder(tmp_path):
    old = tmp_path / "model"
    old.mkdir()
    (old / "keep.bin").write_text("keep")
    with pytest.raises(ValueError):
        with AtomicOutputs() as out:
            folder = out.directory(old)
            open(os.path.join(folder, "model.json"), "w").close()
            raise ValueError
    assert _listing(old) == ["keep.bin"]
    assert _listing(tmp_path) == ["model"]


def test_directory_output_fills_an_empty_folder(tmp_path):
    (tmp_path / "model").mkdir()
    with AtomicOutputs() as out:
        open(os.path.join(out.directory(tmp_path / "model"), "model.json"), "w").close()
    assert _listing(tmp_path / "model") == ["model.json"]


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with AtomicOutputs() as out:
            out.open(tmp_path / "a.txt").write("x")
            os.mkdir(os.path.join(out.directory(tmp_path / "d"), "sub"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "d" / "sub").stat().st_mode & 0o777 == 0o750


def test_missing_output_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError) as info:
        with AtomicOutputs() as out:
            out.open(tmp_path / "absent" / "a.txt")
    assert info.value.path == str(tmp_path / "absent")
    assert _listing(tmp_path) == []


def test_refuse_overwriting_inputs(tmp_path):
    inp = tmp_path / "in.fa"
    inp.write_text(">a\nAC\n")
    with pytest.raises(UserError) as info:
        refuse_overwriting_inputs([str(tmp_path / "other.fa"), str(inp)], [str(inp)])
    assert info.value.path == str(inp)
    assert "overwrite" in info.value.message


def test_refuse_overwriting_inputs_sees_through_links_and_relative_paths(tmp_path, monkeypatch):
    inp = tmp_path / "in.fa"
    inp.write_text(">a\nAC\n")
    link = tmp_path / "link.fa"
    link.symlink_to(inp)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError):
        refuse_overwriting_inputs([str(link)], ["in.fa"])
    with pytest.raises(UserError):
        refuse_overwriting_inputs(["./in.fa"], [str(inp)])


def test_refuse_overwriting_inputs_allows_new_and_distinct_paths(tmp_path):
    inp = tmp_path / "in.fa"
    inp.write_text(">a\nAC\n")
    other = tmp_path / "out.fa"
    other.write_text("old")
    refuse_overwriting_inputs([str(tmp_path / "new.fa"), str(other), None], [str(inp), None])


# Ctrl-C as in a terminal: a process started in the background of a non-interactive shell
# (`make test &`, some CI runners) inherits SIGINT ignored, and Python then raises nothing on it.
_INTERRUPTED_WRITER = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from enhancer_tools.io.atomic import AtomicOutputs
with AtomicOutputs() as out:
    fh = out.open(sys.argv[1])
    fh.write("partial\\n" * 1000)
    fh.flush()
    print("ready", flush=True)
    time.sleep(30)
"""


def test_ctrl_c_in_another_process_leaves_nothing(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_WRITER, str(tmp_path / "out.txt")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    assert len(_listing(tmp_path)) == 1  # the temporary file exists while writing
    proc.send_signal(signal.SIGINT)
    deadline = time.time() + 20
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.communicate(timeout=5)
    assert proc.returncode != 0
    assert _listing(tmp_path) == []
