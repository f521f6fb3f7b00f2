"""bed-summit-window on narrowPeak and BED input: centres, headers, IDs, order, case, strand."""

import json

from enhancer_tools.cli.bed_summit_window import main
from enhancer_tools.genome.reference import open_genome
from genome_fixtures import TINY_GENOME, invoke, rc, read_fasta_pairs, write_genome, write_text

CHR1 = TINY_GENOME["chr1"]


def np_row(chrom, start, end, name, strand, offset, signal=0):
    return f"{chrom}\t{start}\t{end}\t{name}\t0\t{strand}\t{signal}\t0\t0\t{offset}\n"


def run(tmp_path, peaks_text, *extra):
    genome = write_genome(tmp_path)
    peaks = write_text(tmp_path / "peaks.narrowPeak", peaks_text)
    out = tmp_path / "w.fa"
    res = invoke(main, [peaks, "-g", genome, "--width", 10, "-o", out, "--bed", tmp_path / "w.bed",
                        "--json", tmp_path / "run.json", *extra])
    assert res.exit_code == 0, res.output
    return read_fasta_pairs(out)


def test_summit_offset_centres_the_window(tmp_path):
    recs = run(tmp_path, np_row("chr1", 10, 30, "p1", ".", 8))  # summit 18
    assert recs == [("p1 label=1 region=chr1:13-23(.)", CHR1[13:23])]


def test_summit_minus_one_uses_midpoint(tmp_path):
    recs = run(tmp_path, np_row("chr1", 10, 31, "p1", ".", -1))  # midpoint 10 + 21 // 2 = 20
    assert recs[0][0] == "p1 label=1 region=chr1:15-25(.)"


def test_bed_input_uses_midpoint_and_summit_col(tmp_path):
    assert run(tmp_path, "chr1\t10\t20\n")[0][0] == "chr1:10-20 label=1 region=chr1:10-20(.)"
    recs = run(tmp_path, "chr1\t10\t30\tp\t0\t+\t12\n", "--summit-col", 7)
    assert recs[0][0] == "p label=1 region=chr1:17-27(+)"


def test_label_bed_and_json(tmp_path):
    run(tmp_path, np_row("chr1", 10, 30, "p1", ".", 8) + np_row("chr1", 20, 30, "p2", "+", 5), "--label", "enh")
    assert (tmp_path / "w.bed").read_text() == "chr1\t13\t23\tp1\t0\t.\nchr1\t20\t30\tp2\t0\t+\n"
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["counts"]["peaks_read"] == 2 and info["counts"]["windows_written"] == 2
    assert read_fasta_pairs(tmp_path / "w.fa")[0][0] == "p1 label=enh region=chr1:13-23(.)"


def test_case_kept_by_default_and_upper_on_request(tmp_path):
    row = np_row("chr1", 20, 30, "p", ".", 5)  # window 20-30 is ggccaattGG
    assert run(tmp_path, row)[0][1] == "ggccaattGG"
    assert run(tmp_path, row, "--case", "upper")[0][1] == "GGCCAATTGG"


def test_strand_aware_reverse_complements_minus_peaks(tmp_path):
    rows = np_row("chr1", 20, 30, "m", "-", 5) + np_row("chr1", 0, 10, "p", "+", 5)
    plain = dict(run(tmp_path, rows))
    assert plain["m label=1 region=chr1:20-30(+)"] == "ggccaattGG"  # forward sequence, so '+'
    aware = dict(run(tmp_path, rows, "--strand-aware"))
    assert aware["m label=1 region=chr1:20-30(-)"] == rc("ggccaattGG") == "CCaattggcc"
    assert aware["p label=1 region=chr1:0-10(+)"] == CHR1[0:10]


def test_repeated_or_missing_names_get_coordinate_ids(tmp_path):
    rows = np_row("chr1", 10, 30, "dup", ".", 8) + np_row("chr1", 20, 30, "dup", ".", 5) + np_row("chr1", 0, 10, ".", ".", 5)
    ids = [h.split()[0] for h, _ in run(tmp_path, rows)]
    assert ids == ["chr1:0-10", "chr1:13-23", "chr1:20-30"]


def test_output_is_sorted_by_first_appearance_then_start(tmp_path):
    rows = np_row("chr2", 10, 30, "b", ".", 10) + np_row("chr1", 25, 30, "c", ".", 2) + np_row("chr1", 10, 20, "a", ".", 5)
    assert [h.split()[0] for h, _ in run(tmp_path, rows)] == ["b", "a", "c"]


def test_each_peak_gets_a_window_or_a_reject_reason(tmp_path):
    rows = np_row("chr1", 10, 30, "p1", ".", 8) + np_row("chr1", 0, 4, "edge", ".", 1) + np_row("chrZ", 0, 4, "z", ".", 1)
    recs = run(tmp_path, rows, "--rejects", tmp_path / "r.tsv")
    fasta = open_genome(tmp_path / "genome.fa")
    assert recs == [("p1 label=1 region=chr1:13-23(.)", fasta.fetch("chr1", 13, 23))]
    rejects = [line.split("\t")[:2] for line in (tmp_path / "r.tsv").read_text().splitlines()[1:]]
    assert rejects == [["2", "off_chromosome_end"], ["3", "unknown_chromosome"]]
