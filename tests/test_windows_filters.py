"""bed-summit-window filters: N content, duplicates, keep-strongest, blacklist, chromosome regexes."""

from enhancer_tools.cli.bed_summit_window import main
from genome_fixtures import invoke, read_fasta_pairs, write_genome, write_text


def row(chrom, start, end, name, offset, signal=0.0, pvalue=0.0):
    return f"{chrom}\t{start}\t{end}\t{name}\t0\t.\t{signal}\t{pvalue}\t0\t{offset}\n"


def run(tmp_path, text, *extra):
    genome = write_genome(tmp_path)
    peaks = write_text(tmp_path / "p.narrowPeak", text)
    res = invoke(main, [peaks, "-g", genome, "--width", 10, "-o", tmp_path / "w.fa", "--rejects", tmp_path / "r.tsv", *extra])
    assert res.exit_code == 0, res.output
    reasons = [line.split("\t")[1] for line in (tmp_path / "r.tsv").read_text().splitlines()[1:]]
    return [h.split()[0] for h, _ in read_fasta_pairs(tmp_path / "w.fa")], reasons


def test_too_many_n(tmp_path):
    text = row("chr2", 5, 15, "half_n", 5) + row("chr2", 9, 19, "one_n", 5) + row("chr2", 20, 30, "clean", 5)
    assert run(tmp_path, text) == (["one_n", "clean"], ["too_many_n"])  # 5 of 10 N > 0.1; 1 of 10 is not
    assert run(tmp_path, text, "--max-n-frac", "0.5")[0] == ["half_n", "one_n", "clean"]
    assert run(tmp_path, text, "--max-n-frac", "0")[0] == ["clean"]


def test_duplicate_windows_keep_the_first_line(tmp_path):
    text = row("chr1", 10, 30, "first", 8) + row("chr1", 12, 20, "second", 6) + row("chr1", 0, 30, "other", 20)
    assert run(tmp_path, text) == (["first", "other"], ["duplicate_window"])


def test_keep_strongest_is_greedy_by_signal(tmp_path):
    # centres 10, 16, 22: b (strongest) suppresses a and c within 10 bp; a and c are 12 apart.
    text = row("chr1", 5, 15, "a", 5, signal=5) + row("chr1", 11, 21, "b", 5, signal=9) + row("chr1", 17, 27, "c", 5, signal=1)
    assert run(tmp_path, text)[0] == ["a", "b", "c"]
    assert run(tmp_path, text, "--keep-strongest") == (["b"], ["weaker_than_nearby_peak"] * 2)
    text = row("chr1", 5, 15, "a", 5, signal=9) + row("chr1", 11, 21, "b", 5, signal=5) + row("chr1", 17, 27, "c", 5, signal=1)
    assert run(tmp_path, text, "--keep-strongest")[0] == ["a", "c"]  # greedy, not transitive clustering
    assert run(tmp_path, text, "--keep-strongest", "--min-distance", "5")[0] == ["a", "b", "c"]


def test_keep_strongest_by_pvalue(tmp_path):
    text = row("chr1", 5, 15, "a", 5, signal=9, pvalue=1) + row("chr1", 11, 21, "b", 5, signal=1, pvalue=9)
    assert run(tmp_path, text, "--keep-strongest", "--strongest-by", "pvalue")[0] == ["b"]


def test_blacklist(tmp_path):
    write_text(tmp_path / "bl.bed", "chr1\t24\t26\n")
    text = row("chr1", 0, 10, "a", 5) + row("chr1", 20, 30, "b", 5) + row("chr1", 30, 40, "c", 5)
    assert run(tmp_path, text, "--blacklist", tmp_path / "bl.bed") == (["a", "c"], ["blacklist_overlap"])


def test_chromosome_regexes(tmp_path):
    text = row("chr1", 0, 10, "a", 5) + row("chr2", 20, 30, "b", 5)
    assert run(tmp_path, text, "--exclude-chroms", "^chr2$") == (["a"], ["excluded_chromosome"])
    assert run(tmp_path, text, "--chroms", "2")[0] == ["b"]


def test_exclusion_is_checked_before_the_genome(tmp_path):
    text = row("chr1", 0, 10, "a", 5) + row("chrUn_x", 0, 10, "b", 5) + row("chr9", 0, 10, "c", 5)
    assert run(tmp_path, text, "--exclude-chroms", "chrUn|_random") == (
        ["a"], ["excluded_chromosome", "unknown_chromosome"])
