"""explain-regions' outputs: attributions .npz, ISM table, regions table, motifs with matches
against a MEME file and JASPAR, logos, HTML summary, MultiQC content, --json; BED input."""

import json
import random

import numpy as np
import pytest
from explain_helpers import run_explain
from score_helpers import (
    make_cnn_dir,
    make_dnabert2_dir,
    random_seq,
    write_fasta,
    write_genome,
)

from enhancer_tools.interpret.meme import read_jaspar, read_meme
from enhancer_tools.interpret.motifs import Pattern, bh_qvalues, match_patterns
from enhancer_tools.interpret.tables import read_attributions


@pytest.mark.parametrize("kind", ["cnn", "dnabert2"])
def test_both_methods_write_every_output(tmp_path, kind):
    model = (make_cnn_dir(tmp_path / "m", width=40) if kind == "cnn" else make_dnabert2_dir(tmp_path / "m", width=40))
    rng = random.Random(7)
    fa = write_fasta(tmp_path / "in.fa", [(f"r{i}", 1, random_seq(rng, 44)) for i in range(4)])
    out = tmp_path / "o"
    result = run_explain(["--model", model, "--fasta", fa, "-o", out, "--method", "both", "--steps", "4", "--top", "3",
                          "--start", "2", "--end", "42", "-q", "--json", tmp_path / "run.json"])
    assert result.exit_code == 0, result.output
    data = read_attributions(out / "attributions.npz")
    assert len(data["ids"]) == 3 and data["offset"].tolist() == [2, 2, 2]
    assert all(a.shape == (4, 40) for a in data["ism"]) and all(a.shape == (4, 40) for a in data["ig"])
    rows = (out / "ism.tsv").read_text().splitlines()
    assert rows[0] == "id\tposition\tref\talt\tdelta_logodds" and len(rows) == 1 + 3 * 40 * 3
    first = rows[1].split("\t")
    assert first[1] == "3" and first[2] != first[3]
    assert len((out / "regions.tsv").read_text().splitlines()) == 4
    assert "<h1>explain-regions</h1>" in (out / "summary.html").read_text()
    assert len(list((out / "images").glob("region_*.png"))) == 3
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["tool"] == "explain-regions" and run["counts"]["regions"] == 3


def _explain_bed(tmp_path, bed_lines: str, *args):
    """explain-regions of a 60 bp CNN on BED regions of the test genome; (output folder, click Result)."""
    genome = tmp_path / "genome.fa"
    write_genome(genome, n_block=None)
    bed = tmp_path / "regions.bed"
    bed.write_text(bed_lines)
    out = tmp_path / "o"
    model = make_cnn_dir(tmp_path / "m", width=60)
    return out, run_explain(["--model", model, "--bed", bed, "--genome", genome, "-o", out, "-q", *args])


def test_bed_input_cuts_windows_from_the_genome(tmp_path):
    out, result = _explain_bed(tmp_path, "chr1\t100\t180\tpeak1\nchr2\t300\t380\tpeak2\n", "--plots", "1")
    assert result.exit_code == 0, result.output
    data = read_attributions(out / "attributions.npz")
    assert [len(s) for s in data["sequences"]] == [60, 60]


def test_bh_qvalues():
    np.testing.assert_allclose(bh_qvalues(np.array([0.01, 0.04, 0.03, 0.5])), [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_tomtom_matches_a_planted_motif_in_jaspar_first():
    """A pattern equal to JASPAR's GATA1 matrix has a GATA factor as its best match, q < 0.05."""
    jaspar = read_jaspar()
    assert len(jaspar) > 800 and all(np.allclose(m.matrix.sum(axis=0), 1) for m in jaspar[:20])
    gata = next(m for m in jaspar if m.name.endswith(" GATA1"))
    pattern = Pattern("pos_0", 50, gata.matrix, gata.matrix)
    match_patterns([pattern], jaspar)
    assert "GATA" in pattern.matches[0].name.upper() and pattern.matches[0].q < 0.05


def test_modisco_with_a_meme_file_writes_motifs_tsv(tmp_path):
    """Random regions: no pattern is expected; the motif table and MultiQC file are still written."""
    meme = tmp_path / "db.meme"
    meme.write_text("MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1 one\nletter-probability matrix: alength= 4 w= 2\n"
                    "0.7 0.1 0.1 0.1\n0.1 0.1 0.1 0.7\n\nMOTIF M2\nletter-probability matrix: w= 1\n0.25 0.25 0.25 0.25\n")
    assert [m.name for m in read_meme(str(meme))] == ["M1 one", "M2"]
    model = make_cnn_dir(tmp_path / "m", width=40)
    rng = random.Random(8)
    fa = write_fasta(tmp_path / "in.fa", [(f"r{i}", 1, random_seq(rng, 40)) for i in range(4)])
    out = tmp_path / "o"
    result = run_explain(["--model", model, "--fasta", fa, "-o", out, "--modisco", "--motifs", meme, "-q", "--plots", "0"])
    assert result.exit_code == 0, result.output
    assert (out / "motifs.tsv").read_text().startswith("pattern\tseqlets\tconsensus\trank\tmatch")
    mqc = json.loads((out / "explain_regions_mqc.json").read_text())
    assert mqc["id"] == "enhancer_tools_explain_motifs" and mqc["plot_type"] == "table"


def test_trim_keeps_the_strongest_core_of_two_spaced_motifs():
    from enhancer_tools.interpret.motifs import trim_to_core

    cwm = np.zeros((4, 30))
    cwm[0, [3, 4, 5]] = 1.0  # a weaker motif 7 bp away
    cwm[0, [12, 13, 15, 16, 17, 18, 19, 20]] = 2.0
    cwm[0, 14] = 0.1  # one weak column inside the core is bridged
    ppm = np.full((4, 30), 0.25)
    trimmed_ppm, trimmed = trim_to_core(ppm, cwm, gap=1)
    assert trimmed.shape == (4, 9) and trimmed_ppm.shape == (4, 9)
    assert trimmed[0, 0] == 2.0 and trimmed[0, -1] == 2.0
    one = np.zeros((4, 10))
    one[1, 4] = 1.0
    assert trim_to_core(np.full((4, 10), 0.25), one)[1].shape == (4, 6)


@pytest.mark.parametrize("method", ["ism", "ig"])
def test_bed_input_writes_a_bigwig_of_each_bases_contribution(tmp_path, method):
    """Each base of each window carries its reference base's contribution; overlapping windows
    (peak1 and peak3) are averaged; windows are forward strand whatever the BED strand."""
    pyBigWig = pytest.importorskip("pyBigWig")
    from enhancer_tools.interpret.ism import hypothetical_from_ism
    from enhancer_tools.interpret.tracks import base_values

    out, result = _explain_bed(tmp_path, "chr1\t100\t180\tpeak1\t0\t+\nchr1\t120\t200\tpeak3\t0\t+\n"
                                         "chr2\t300\t380\tpeak2\t0\t-\n", "--plots", "0", "--method", method, "--steps", "4")
    assert result.exit_code == 0, result.output
    data = read_attributions(out / "attributions.npz")
    per_base = {}
    for rid, seq, values in zip(data["ids"], data["sequences"], data[method]):
        values = hypothetical_from_ism(values) if method == "ism" else values
        per_base[str(rid)] = base_values(values, str(seq))
    regions = {str(rid): str(seq) for rid, seq in zip(data["ids"], data["sequences"])}
    assert len(regions) == 3
    bw = pyBigWig.open(str(out / f"attributions.{method}.bw"))
    try:
        assert bw.chroms("chr1") and bw.chroms("chr2")
        track1 = np.array(bw.values("chr1", 0, 300), dtype=float)
        track2 = np.array(bw.values("chr2", 250, 450), dtype=float)
    finally:
        bw.close()
    starts = {"peak1": 110, "peak3": 130, "peak2": 310}  # 60 bp windows centred on the 80 bp regions
    expected1 = np.full(300, np.nan)
    a, b = per_base["peak1"], per_base["peak3"]
    expected1[110:170] = a
    expected1[130:190] = np.where(np.isnan(expected1[130:190]), b, (expected1[130:190] + b) / 2)
    np.testing.assert_allclose(track1, expected1, rtol=1e-5, atol=1e-6)
    expected2 = np.full(200, np.nan)
    expected2[starts["peak2"] - 250:starts["peak2"] - 250 + 60] = per_base["peak2"]
    np.testing.assert_allclose(track2, expected2, rtol=1e-5, atol=1e-6)


def test_fasta_input_writes_no_bigwig(tmp_path):
    model = make_cnn_dir(tmp_path / "m", width=40)
    fa = write_fasta(tmp_path / "in.fa", [("r1", 1, random_seq(random.Random(1), 40))])
    result = run_explain(["--model", model, "--fasta", fa, "-o", tmp_path / "o", "-q", "--plots", "0"])
    assert result.exit_code == 0, result.output
    assert not list((tmp_path / "o").glob("*.bw"))


def test_attributions_file_needs_no_pickle_and_keeps_each_region(tmp_path):
    from enhancer_tools.interpret.tables import write_attributions

    rng = np.random.default_rng(3)
    ism = [rng.normal(size=(4, n)).astype(np.float32) for n in (5, 0, 9)]
    ig = [rng.normal(size=(4, n)).astype(np.float32) for n in (5, 0, 9)]
    path = tmp_path / "a.npz"
    write_attributions(str(path), ["a", "b", "c"], ["ACGTACG", "AC", "ACGTACGTACG"], {"ism": ism, "ig": ig}, [1, 0, 2])
    with np.load(path) as raw:  # allow_pickle=False, numpy's default: a pickled object array would raise
        assert all(raw[key].dtype != object for key in raw.files)
    data = read_attributions(str(path))
    assert data["ids"].tolist() == ["a", "b", "c"] and data["offset"].tolist() == [1, 0, 2]
    for method, want in (("ism", ism), ("ig", ig)):
        assert [a.shape for a in data[method]] == [(4, 5), (4, 0), (4, 9)]
        for got, expected in zip(data[method], want):
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="lengths differ"):
        write_attributions(str(tmp_path / "b.npz"), ["a"], ["ACGT"], {"ism": [ism[0]], "ig": [ig[2]]}, [0])
