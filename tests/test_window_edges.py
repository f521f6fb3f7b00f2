"""Window width semantics and the chromosome-end policies (drop / shift / clip)."""

import numpy as np
import pytest

from enhancer_tools.cli.bed_summit_window import main
from enhancer_tools.genome.windows import place_windows
from genome_fixtures import TINY_GENOME, invoke, read_fasta_pairs, reference_window, write_genome, write_text


def one_window(centre, width, chrom_length, edge):
    """``place_windows`` of one window: ``(start, end)``, or None when dropped."""
    starts, ends, placed = place_windows(np.array([centre]), width, np.array([chrom_length]), edge)
    return (int(starts[0]), int(ends[0])) if placed[0] else None


def test_even_width_has_centre_at_half_width():
    assert one_window(100, 10, 1000, "drop") == (95, 105)  # 5 before the centre base, 4 after


def test_odd_width_is_symmetric():
    assert one_window(100, 11, 1000, "drop") == (95, 106)  # 5 on each side of the centre base


@pytest.mark.parametrize(
    "centre,edge,expected",
    [
        (2, "drop", None), (2, "shift", (0, 10)), (2, "clip", (0, 7)),
        (38, "drop", None), (38, "shift", (30, 40)), (38, "clip", (33, 40)),
        (5, "drop", (0, 10)), (35, "drop", (30, 40)),  # exactly touching the ends is inside
    ],
)
def test_edge_policies_at_both_ends(centre, edge, expected):
    assert one_window(centre, 10, 40, edge) == expected


def test_shift_drops_when_chromosome_shorter_than_width():
    assert one_window(3, 10, 8, "shift") is None
    assert one_window(3, 10, 8, "clip") == (0, 8)


def test_vectorised_placement_matches_reference():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 300, 2000)
    centres = (rng.random(2000) * lengths).astype(np.int64)
    for width in (1, 10, 11, 100, 301):
        for edge in ("drop", "shift", "clip"):
            starts, ends, placed = place_windows(centres, width, lengths, edge)
            for c, L, s, e, p in zip(centres, lengths, starts, ends, placed):
                expected = reference_window(int(c), width, int(L), edge)
                assert (expected is not None) == bool(p)
                if p:
                    assert (int(s), int(e)) == expected


@pytest.mark.parametrize("edge", ["drop", "shift", "clip"])
def test_cli_edges(tmp_path, edge):
    genome = write_genome(tmp_path)
    peaks = write_text(tmp_path / "p.bed", "chr1\t0\t4\tleft\nchr1\t36\t40\tright\nchr1\t15\t25\tmid\n")
    out = tmp_path / "w.fa"
    res = invoke(main, [peaks, "-g", genome, "--width", 10, "--edge", edge, "-o", out, "--rejects", tmp_path / "r.tsv"])
    assert res.exit_code == 0, res.output
    got = {h.split()[0]: (h.split()[2], s) for h, s in read_fasta_pairs(out)}
    chr1 = TINY_GENOME["chr1"]
    assert got["mid"] == ("region=chr1:15-25(.)", chr1[15:25])
    rejects = (tmp_path / "r.tsv").read_text()
    if edge == "drop":
        assert set(got) == {"mid"}
        assert rejects.count("off_chromosome_end") == 2
    elif edge == "shift":
        assert got["left"] == ("region=chr1:0-10(.)", chr1[0:10])
        assert got["right"] == ("region=chr1:30-40(.)", chr1[30:40])
    else:
        assert got["left"] == ("region=chr1:0-7(.)", chr1[0:7])
        assert got["right"] == ("region=chr1:33-40(.)", chr1[33:40])


def test_shift_on_short_chromosome_is_rejected(tmp_path):
    genome = write_genome(tmp_path)
    peaks = write_text(tmp_path / "p.bed", "chr3\t2\t4\tshort\nchr1\t15\t25\tmid\n")
    res = invoke(main, [peaks, "-g", genome, "--width", 10, "--edge", "shift", "-o", tmp_path / "w.fa",
                        "--rejects", tmp_path / "r.tsv"])
    assert res.exit_code == 0
    assert "chromosome_shorter_than_window" in (tmp_path / "r.tsv").read_text()
