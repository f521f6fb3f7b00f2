"""--tile writes valid, non-overlapping bedGraph and bigWig tracks; N-rich tiles are skipped."""

import json

import pytest
from score_helpers import make_cnn_dir, read_tsv, run_cli, write_genome


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("tracks")
    genome = root / "genome.fa"
    return make_cnn_dir(root / "cnn", width=80), genome, write_genome(genome)


def _bedgraph(path):
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert rows and all(len(r) == 4 for r in rows)
    return [(c, int(s), int(e), float(v)) for c, s, e, v in rows]


def test_tiled_bedgraph_is_valid(setup, tmp_path):
    model, genome, chroms = setup
    out, bg, js = tmp_path / "s.tsv", tmp_path / "t.bedGraph", tmp_path / "run.json"
    result = run_cli(["--model", model, "--tile", "--genome", genome, "--step", 40, "-o", out, "--bedgraph", bg, "--json", js])
    assert result.exit_code == 0, result.output
    rows = _bedgraph(bg)
    order = {"chr1": 0, "chr2": 1}
    assert rows == sorted(rows, key=lambda r: (order[r[0]], r[1]))
    for a, b in zip(rows, rows[1:]):
        assert a[0] != b[0] or a[2] <= b[1]  # no overlap
        assert 0 <= a[3] <= 1
    # each tile's score sits on its central 40 bp: tile [s, s+80) -> [s+20, s+60)
    _, scores = read_tsv(out)
    assert [(r[1], int(r[2]) + 20, int(r[2]) + 60) for r in scores] == [r[:3] for r in rows]
    assert [float(r[6]) for r in scores] == [r[3] for r in rows]
    # tiles with more than 10% N (chr1 300-700 is N) are skipped; chrM (50 bp) is shorter than a tile
    starts = {int(r[2]) for r in scores if r[1] == "chr1"}
    tiles_chr1 = set(range(0, 1200 - 80 + 1, 40))
    skipped = {s for s in tiles_chr1 if chroms["chr1"][s:s + 80].count("N") > 8}
    assert skipped and starts == tiles_chr1 - skipped
    counts = json.loads(js.read_text())["counts"]
    assert counts["tiles_skipped_n"] == len(skipped)
    assert counts["sequences_scored"] == len(scores) == counts["input_records"] - len(skipped)


def test_step_not_below_width_uses_whole_tiles(setup, tmp_path):
    model, genome, _ = setup
    bg = tmp_path / "t.bedGraph"
    assert run_cli(["--model", model, "--tile", "--genome", genome, "--step", 100, "--chroms", "^chr2$",
                    "-o", tmp_path / "s.tsv", "--bedgraph", bg]).exit_code == 0
    rows = _bedgraph(bg)
    assert [(r[1], r[2]) for r in rows] == [(s, s + 80) for s in range(0, 900 - 80 + 1, 100)]


def test_bigwig_readable(setup, tmp_path):
    pyBigWig = pytest.importorskip("pyBigWig")
    model, genome, _ = setup
    bg, bw = tmp_path / "t.bedGraph", tmp_path / "t.bw"
    assert run_cli(["--model", model, "--tile", "--genome", genome, "--step", 40, "-o", tmp_path / "s.tsv",
                    "--bedgraph", bg, "--bigwig", bw]).exit_code == 0
    rows = _bedgraph(bg)
    with pyBigWig.open(str(bw)) as f:
        assert f.isBigWig()
        assert f.chroms() == {"chr1": 1200, "chr2": 900, "chrM": 50}  # header: every chromosome --chroms keeps
        got = [(c, s, e, v) for c in ("chr1", "chr2") for s, e, v in f.intervals(c)]
    assert [r[:3] for r in got] == [r[:3] for r in rows]
    assert all(abs(a[3] - b[3]) < 1e-6 for a, b in zip(got, rows))
