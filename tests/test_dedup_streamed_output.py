"""fasta-rc-dedup writes first occurrences while it scans; whenever the plan keeps other records
(label conflicts, --label-for, a collision of the 64-bit prefilter, a file that leaves the fast
layout midway) the output is written again, so it always equals the plan's."""

import random

import numpy as np
import pytest

from dataset_helpers import dataset_with_duplicates, invoke, write_fasta
from enhancer_tools.cli.fasta_rc_dedup import main
from enhancer_tools.dataset import dedup, scan
from enhancer_tools.io import oneline_fasta


@pytest.fixture
def large_path(monkeypatch):
    """Every file counts as large (workers, compiled kernel) and is scanned in many parts."""
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(scan, "RANGE_BYTES", 2000)
    monkeypatch.setattr(oneline_fasta, "BLOCK_BYTES", 700)


def planned_output(paths) -> bytes:
    """The output written from the finished plan, without streaming."""
    import io

    inputs = dedup.scan_inputs([str(p) for p in paths], [None] * len(paths))
    out = io.BytesIO()
    dedup.write_kept(inputs, dedup.plan_dedup(inputs).keep, out)
    return out.getvalue()


def test_streamed_output_equals_the_plan_across_parts_and_files(tmp_path, large_path, monkeypatch):
    rng = random.Random(4)
    records = dataset_with_duplicates(rng, 300)
    a = write_fasta(tmp_path / "a.fa", records[:180])
    b = write_fasta(tmp_path / "b.fa", [(f"b{h}", s) for h, s in records[150:]])
    calls, rewrites = [], []
    original_add, original_write = dedup.FirstOccurrenceWriter.add_part, dedup.write_kept
    monkeypatch.setattr(dedup.FirstOccurrenceWriter, "add_part",
                        lambda self, path, part: calls.append(part is not None) or original_add(self, path, part))
    monkeypatch.setattr(dedup, "write_kept", lambda *args: rewrites.append(1) or original_write(*args))
    out = tmp_path / "out.fa"
    assert invoke(main, [a, b, "-o", out, "-j", 2]).exit_code == 0
    assert len(calls) > 4 and all(calls) and not rewrites  # streamed, in several parts, not rewritten
    monkeypatch.undo()
    assert out.read_bytes() == planned_output([a, b])


def test_label_conflicts_make_it_write_again(tmp_path, large_path):
    a = write_fasta(tmp_path / "a.fa", [("x label=1", "ACGTACGTAA"), ("y label=1", "GGGCCCAAAT")])
    b = write_fasta(tmp_path / "b.fa", [("z label=0", "TTACGTACGT"), ("w label=0", "CCCCCAAAAA")])
    out = tmp_path / "out.fa"
    assert invoke(main, [a, b, "-o", out]).exit_code == 0  # x and z conflict: both dropped
    assert out.read_text() == ">y label=1\nGGGCCCAAAT\n>w label=0\nCCCCCAAAAA\n"


def test_label_for_is_not_streamed_and_adds_labels(tmp_path, large_path):
    a = write_fasta(tmp_path / "a.fa", [("x", "ACGTACGTAA"), ("y", "ACGTACGTAA")])
    out = tmp_path / "out.fa"
    assert invoke(main, [a, "--label-for", f"{a}=1", "-o", out]).exit_code == 0
    assert out.read_text() == ">x label=1\nACGTACGTAA\n"


def test_a_prefilter_collision_is_caught():
    """Two different keys with the same high 64 bits: the writer drops the second, so its
    output does not match the plan, which keeps both."""
    import io

    writer = dedup.FirstOccurrenceWriter(io.BytesIO())
    part = {"keys": np.array([[5, 1]], np.uint64), "starts": np.array([0]), "ends": np.array([0])}
    writer.add_part("/dev/null", part)
    writer.add_part("/dev/null", {**part, "keys": np.array([[5, 2]], np.uint64)})
    assert not writer.matches(np.array([True, True]))
    assert dedup.FirstOccurrenceWriter(io.BytesIO()).matches(np.array([], bool)) is False


def test_a_file_leaving_the_fast_layout_midway_is_written_again(tmp_path, large_path):
    records = dataset_with_duplicates(random.Random(9), 120)
    text = "".join(f">{h}\n{s}\n" for h, s in records)
    path = tmp_path / "late_wrap.fa"
    path.write_text(text + ">last\nACGTAC\nGTAC\n")  # a wrapped record at the very end
    out = tmp_path / "out.fa"
    assert invoke(main, [path, "-o", out]).exit_code == 0
    assert out.read_text().endswith(">last\nACGTACGTAC\n") and out.read_text().count(">") > 50
