"""Golden files: bed-summit-window and background-windows on the small inputs in test-data/windows/.

Regenerate (after an intended change) with the commands in test-data/windows/README.md.
"""

import difflib
import shutil
from pathlib import Path

from enhancer_tools.cli.background_windows import main as background_main
from enhancer_tools.cli.bed_summit_window import main as windows_main
from genome_fixtures import invoke

GOLDEN = Path(__file__).resolve().parents[1] / "test-data" / "windows"


def assert_same(got: Path, expected: Path):
    a, b = expected.read_text().splitlines(keepends=True), got.read_text().splitlines(keepends=True)
    diff = "".join(difflib.unified_diff(a, b, str(expected), str(got)))
    assert not diff, "output differs from the golden file:\n" + diff


def copy_inputs(tmp_path):
    for name in ("genome.fa", "peaks.narrowPeak"):
        shutil.copy(GOLDEN / name, tmp_path / name)


def test_bed_summit_window_golden(tmp_path):
    copy_inputs(tmp_path)
    res = invoke(windows_main, [tmp_path / "peaks.narrowPeak", "-g", tmp_path / "genome.fa", "--width", 50, "--edge", "shift",
                                "--strand-aware", "-o", tmp_path / "w.fa", "--bed", tmp_path / "w.bed", "--rejects", tmp_path / "r.tsv"])
    assert res.exit_code == 0, res.output
    assert_same(tmp_path / "w.fa", GOLDEN / "expected_windows.fa")
    assert_same(tmp_path / "w.bed", GOLDEN / "expected_windows.bed")
    assert_same(tmp_path / "r.tsv", GOLDEN / "expected_rejects.tsv")


def test_bed_summit_window_golden_with_tiny_fetch_blocks(tmp_path, monkeypatch):
    """Windows are fetched and built in blocks; block boundaries must not change the output."""
    from enhancer_tools.genome import summit_windows

    monkeypatch.setattr(summit_windows, "_WINDOWS_PER_BLOCK", 2)
    monkeypatch.setattr(summit_windows, "_BLOCK", 60)
    test_bed_summit_window_golden(tmp_path)


def test_background_windows_golden(tmp_path):
    copy_inputs(tmp_path)
    res = invoke(background_main, ["-g", tmp_path / "genome.fa", "--exclude", GOLDEN / "expected_windows.bed",
                                   "--like", GOLDEN / "expected_windows.fa", "--width", 50, "--ratio", 2, "--gc-bins", 5,
                                   "--seed", 1, "-o", tmp_path / "bg.fa", "--bed", tmp_path / "bg.bed"])
    assert res.exit_code == 0, res.output
    assert_same(tmp_path / "bg.fa", GOLDEN / "expected_background.fa")
    assert_same(tmp_path / "bg.bed", GOLDEN / "expected_background.bed")
