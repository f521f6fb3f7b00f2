"""Run-info JSON: the fields every tool's --json carries."""

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from enhancer_tools import __version__
from enhancer_tools.io.runinfo import RunInfo, package_versions, sha256_file


def _run(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/bin/bed-summit-window", "--width", "1000", "peaks.bed"])
    genome = tmp_path / "genome.fa"
    genome.write_bytes(b">chr1\nACGT\n")
    peaks = tmp_path / "peaks.bed"
    peaks.write_bytes(b"chr1\t0\t4\n")
    run = RunInfo("bed-summit-window", {"width": 1000, "genome": Path(genome), "edge": "shift", "out": None})
    run.add_input("genome", genome)
    run.add_input("peaks", [peaks, str(peaks)])
    run.add_input("absent", None)
    run.counts.update({"windows": np.int64(12), "rejected": 1})
    run.outputs["windows"] = tmp_path / "w.fa"
    run.extra["histogram"] = {"gc": np.array([0.1, 0.2])}
    return run, genome, peaks


def test_json_holds_the_required_fields(tmp_path, monkeypatch):
    run, genome, peaks = _run(tmp_path, monkeypatch)
    run.write(tmp_path / "run.json")
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tool"] == "bed-summit-window"
    assert info["version"] == __version__
    assert info["schema_version"] == 1
    assert info["command_line"] == ["bed-summit-window", "--width", "1000", "peaks.bed"]
    assert info["parameters"] == {"width": 1000, "genome": str(genome), "edge": "shift", "out": None}
    assert info["inputs"]["genome"] == {
        "path": str(genome), "sha256": hashlib.sha256(b">chr1\nACGT\n").hexdigest(), "bytes": 11,
    }
    assert [e["sha256"] for e in info["inputs"]["peaks"]] == [hashlib.sha256(b"chr1\t0\t4\n").hexdigest()] * 2
    assert "absent" not in info["inputs"]
    assert info["counts"] == {"windows": 12, "rejected": 1}
    assert info["outputs"] == {"windows": str(tmp_path / "w.fa")}
    assert info["histogram"] == {"gc": [0.1, 0.2]}
    assert info["python"] == platform.python_version()
    assert info["versions"]["torch"] == metadata.version("torch")
    assert info["versions"]["click"] == metadata.version("click")
    assert isinstance(info["elapsed_seconds"], float) and info["elapsed_seconds"] >= 0
    assert info["started"].endswith("+00:00")


def test_write_is_atomic_and_ends_with_newline(tmp_path, monkeypatch):
    run, _, _ = _run(tmp_path, monkeypatch)
    run.write(tmp_path / "run.json")
    text = (tmp_path / "run.json").read_text()
    assert text.endswith("}\n")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_checksums_can_be_skipped(tmp_path, monkeypatch):
    run, genome, _ = _run(tmp_path, monkeypatch)
    assert run.as_dict(checksums=False)["inputs"]["genome"] == {"path": str(genome)}


def test_missing_input_file_has_no_checksum(tmp_path):
    run = RunInfo("t")
    run.add_input("x", tmp_path / "gone.fa")
    assert run.as_dict()["inputs"]["x"] == {"path": str(tmp_path / "gone.fa")}


def test_sha256_of_gzip_is_of_the_stored_bytes(tmp_path):
    data = b"\x1f\x8b" + bytes(range(256)) * 10_000
    path = tmp_path / "x.gz"
    path.write_bytes(data)
    assert sha256_file(path, block=4096) == hashlib.sha256(data).hexdigest()


def test_package_versions_reads_metadata_without_importing():
    versions = package_versions(("numpy", "surely-not-installed-pkg"))
    assert versions == {"numpy": metadata.version("numpy"), "surely-not-installed-pkg": None}
