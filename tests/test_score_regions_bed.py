"""--bed cuts windows exactly as bed-summit-window does, with the model directory's width and
edge policy; regions that cannot be windowed go to --rejects."""

import json

import pytest
from score_helpers import make_cnn_dir, read_tsv, run_cli, write_genome

from enhancer_tools.cli.bed_summit_window import main as summit_main

PEAKS = (
    "chr1\t10\t90\tpA\t0\t.\t5\t1\t1\t-1\n"  # midpoint 50 -> [10, 90)
    "chr1\t100\t300\tpB\t0\t.\t5\t1\t1\t150\n"  # summit 250 -> [210, 290)
    "chr2\t0\t100\tpC\t0\t.\t5\t1\t1\t5\n"  # summit 5: off the chromosome start (drop) or shifted to [0, 80)
    "chr9\t0\t100\tpD\t0\t.\t5\t1\t1\t50\n"  # unknown chromosome
    "chr1\t400\t500\tpE\t0\t.\t5\t1\t1\t50\n"  # inside the N block: too_many_n
    "chr2\t800\t900\tpF\t0\t.\t5\t1\t1\t60\n"  # summit 860 -> [820, 900)
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("bed")
    genome = root / "genome.fa"
    write_genome(genome)
    peaks = root / "peaks.narrowPeak"
    peaks.write_text(PEAKS)
    return make_cnn_dir(root / "cnn", width=80), genome, peaks


def test_bed_windows_match_bed_summit_window(setup, tmp_path):
    model, genome, peaks = setup
    out, rejects = tmp_path / "s.tsv", tmp_path / "rejects.tsv"
    result = run_cli(["--model", model, "--bed", peaks, "--genome", genome, "-o", out, "--rejects", rejects,
                      "--json", tmp_path / "run.json"])
    assert result.exit_code == 0, result.output
    header, rows = read_tsv(out)
    assert "label" not in header
    assert [r[:4] for r in rows] == [["pA", "chr1", "10", "90"], ["pB", "chr1", "210", "290"], ["pF", "chr2", "820", "900"]]
    reasons = {line.split("\t")[0]: line.split("\t")[1] for line in rejects.read_text().splitlines()[1:]}
    assert reasons == {"3": "off_chromosome_end", "4": "unknown_chromosome", "5": "too_many_n"}
    counts = json.loads((tmp_path / "run.json").read_text())["counts"]
    assert counts["regions_read"] == 6 and counts["regions_rejected"] == 3 and counts["sequences_scored"] == 3

    # The same windows from bed-summit-window, scored as FASTA, give the same scores.
    fa, bed = tmp_path / "w.fa", tmp_path / "w.bed"
    from click.testing import CliRunner

    done = CliRunner().invoke(summit_main, [str(peaks), "-g", str(genome), "-o", str(fa), "--bed", str(bed), "--width", "80"])
    assert done.exit_code == 0, done.output
    assert [line.split("\t")[:4] for line in bed.read_text().splitlines()] == [[r[1], r[2], r[3], r[0]] for r in rows]
    assert run_cli(["--model", model, "--fasta", fa, "-o", tmp_path / "fa.tsv"]).exit_code == 0
    assert [r[:8] for r in read_tsv(tmp_path / "fa.tsv")[1]] == rows


def test_edge_policy_and_width_from_model_dir(setup, tmp_path):
    model, genome, peaks = setup
    shifted = tmp_path / "cnn"
    shifted.mkdir()
    for f in model.iterdir():
        (shifted / f.name).write_bytes(f.read_bytes())
    info = json.loads((shifted / "model.json").read_text())
    info["window"] = {"width": 80, "edge": "shift"}
    (shifted / "model.json").write_text(json.dumps(info))
    out = tmp_path / "s.tsv"
    assert run_cli(["--model", shifted, "--bed", peaks, "--genome", genome, "-o", out]).exit_code == 0
    assert ["pC", "chr2", "0", "80"] in [r[:4] for r in read_tsv(out)[1]]
    # --width overrides the model's width
    assert run_cli(["--model", shifted, "--bed", peaks, "--genome", genome, "-o", out, "--width", 41]).exit_code == 0
    assert ["pA", "chr1", "30", "71"] in [r[:4] for r in read_tsv(out)[1]]


def test_all_regions_rejected_is_an_error(setup, tmp_path):
    model, genome, _ = setup
    peaks = tmp_path / "p.bed"
    peaks.write_text("chrX\t0\t100\nchr9\t5\t50\n")
    out = tmp_path / "s.tsv"
    result = run_cli(["--model", model, "--bed", peaks, "--genome", genome, "-o", out])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if not line.startswith("[score-regions]")]
    assert len(errors) == 1 and errors[0].startswith("Error:") and "unknown_chromosome 2" in errors[0]
    assert not out.exists()
