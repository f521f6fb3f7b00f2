"""bed-summit-window on bad input: rejects with reasons, clean one-line errors, no partial output."""

import gzip

import pytest

from enhancer_tools.cli.bed_summit_window import main
from genome_fixtures import TINY_GENOME, bgzip, invoke, read_fasta_pairs, write_genome, write_text

GOOD = "chr1\t10\t30\tgood\t0\t.\t0\t0\t0\t8\n"


def rejects_of(path):
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    return {int(r[0]): r[1] for r in rows}


def run(tmp_path, peaks_text, *extra, genome=None):
    genome = genome or write_genome(tmp_path)
    peaks = write_text(tmp_path / "peaks.narrowPeak", peaks_text)
    return invoke(main, [peaks, "-g", genome, "--width", 10, "-o", tmp_path / "w.fa", "--rejects", tmp_path / "r.tsv", *extra])


def test_malformed_lines_go_to_rejects_with_line_numbers(tmp_path):
    text = ("track name=x\n" + GOOD + "chr1\tten\t30\n" + "chr1\t5\n" + "chr1\t30\t10\n"
            + "chr1\t10\t30\tx\t0\t?\n" + "chr1\t10\t30\tx\t0\t.\t0\t0\t0\tabc\n")
    res = run(tmp_path, text)
    assert res.exit_code == 0
    assert rejects_of(tmp_path / "r.tsv") == {3: "malformed_line", 4: "malformed_line", 5: "malformed_line",
                                              6: "malformed_line", 7: "malformed_line"}
    detail = (tmp_path / "r.tsv").read_text().splitlines()[1].split("\t")
    assert "integers" in detail[2] and detail[3] == "chr1 ten 30"


def test_summit_outside_peak_and_unknown_chromosome_are_rejected(tmp_path):
    text = GOOD + "chr1\t10\t20\ts\t0\t.\t0\t0\t0\t10\n" + "chrZ\t10\t20\tz\n" + "chr1\t10\t45\tpast\n"
    res = run(tmp_path, text)
    assert res.exit_code == 0
    assert rejects_of(tmp_path / "r.tsv") == {2: "summit_outside_peak", 3: "unknown_chromosome", 4: "peak_past_chromosome_end"}
    assert "summit 20 lies outside the peak (start 10, end 20)" in (tmp_path / "r.tsv").read_text()


def test_gzip_and_crlf_peaks(tmp_path):
    genome = write_genome(tmp_path)
    path = tmp_path / "peaks.narrowPeak.gz"
    with gzip.open(path, "wt", newline="") as fh:
        fh.write(GOOD.replace("\n", "\r\n") * 1 + "chr1\t0\t10\tb\t0\t-\t0\t0\t0\t5\r\n")
    res = invoke(main, [path, "-g", genome, "--width", 10, "-o", tmp_path / "w.fa"])
    assert res.exit_code == 0, res.output
    assert [h.split()[0] for h, _ in read_fasta_pairs(tmp_path / "w.fa")] == ["b", "good"]


def test_empty_peaks_file_is_one_line_error(tmp_path):
    res = run(tmp_path, "track name=empty\n\n")
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if not line.startswith("[bed-summit-window]")]
    assert len(errors) == 1 and errors[0].startswith("Error:") and "no intervals found" in errors[0]
    assert not (tmp_path / "w.fa").exists() and not (tmp_path / "r.tsv").exists()


def test_all_rejected_is_an_error_without_partial_outputs(tmp_path):
    res = run(tmp_path, "chrZ\t1\t5\n")
    assert res.exit_code == 2 and "no windows written" in res.stderr
    assert list(tmp_path.glob("w.fa*")) == [] and not (tmp_path / "r.tsv").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_plain_gzip_genome_gets_a_bgzip_hint(tmp_path):
    plain = write_genome(tmp_path)
    gz = tmp_path / "genome.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    res = run(tmp_path, GOOD, genome=gz)
    assert res.exit_code == 2 and "bgzip" in res.stderr and "Traceback" not in res.stderr


def test_bgzip_genome_works_and_is_indexed(tmp_path):
    plain = write_genome(tmp_path)
    res = run(tmp_path, GOOD, genome=bgzip(plain))
    assert res.exit_code == 0, res.output
    assert read_fasta_pairs(tmp_path / "w.fa")[0][1] == TINY_GENOME["chr1"][13:23]
    assert (tmp_path / "genome.fa.gz.fai").exists() and (tmp_path / "genome.fa.gz.gzi").exists()


def test_not_a_fasta_genome(tmp_path):
    res = run(tmp_path, GOOD, genome=write_text(tmp_path / "g.fa", "this is not a fasta\n"))
    assert res.exit_code == 2 and res.stderr.startswith("Error:") and "not a FASTA" in res.stderr


def test_refuses_to_overwrite_input(tmp_path):
    genome = write_genome(tmp_path)
    peaks = write_text(tmp_path / "p.bed", GOOD)
    res = invoke(main, [peaks, "-g", genome, "-o", peaks])
    assert res.exit_code == 2 and peaks.read_text() == GOOD


@pytest.mark.parametrize("bad", [["--chroms", "chr[1"], ["--label", "a b"]])
def test_bad_options(tmp_path, bad):
    res = run(tmp_path, GOOD, *bad)
    assert res.exit_code == 2 and not (tmp_path / "w.fa").exists()
