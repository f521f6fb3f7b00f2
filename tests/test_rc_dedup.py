"""fasta-rc-dedup: exact and reverse-complement duplicates within and across files, first
occurrence kept with its header and case, input layouts, golden output, bad inputs."""

import difflib
import json
import shutil

import pytest

from dataset_helpers import TEST_DATA, invoke, read_records, write_fasta
from enhancer_tools.cli.fasta_rc_dedup import main

A = [("a1 label=1", "ACGTTGCAaatc"), ("a2 label=1", "GATTTGCAACGT"), ("a3 label=1", "GGGGCCCCAAAT"),
     ("a4 label=1", "acgttgcaAATC"), ("a5 label=1", "CCCCCCAAAAAA")]
B = [("b1 label=1", "ATTTGGGGCCCC"), ("b2 label=1", "CCCCCCAAAAAA"), ("b3 label=1", "TTTTTTTTTTTG")]


def counts(tmp_path):
    return json.loads((tmp_path / "s.json").read_text())["counts"]


def test_exact_and_reverse_complement_counted_within_and_across_files(tmp_path):
    a, b = write_fasta(tmp_path / "a.fa", A), write_fasta(tmp_path / "b.fa", B)
    res = invoke(main, [a, b, "-o", tmp_path / "out.fa", "--json", tmp_path / "s.json"])
    assert res.exit_code == 0, res.output
    assert read_records(tmp_path / "out.fa") == [A[0], A[2], A[4], B[2]]
    c = counts(tmp_path)
    assert c["records_in"] == 8 and c["records_out"] == 4 and c["duplicate_groups"] == 3
    assert c["exact_duplicates_within_file"] == 1  # a4 (case differs only)
    assert c["revcomp_duplicates_within_file"] == 1  # a2
    assert c["exact_duplicates_across_files"] == 1  # b2
    assert c["revcomp_duplicates_across_files"] == 1  # b1
    assert c["label_conflict_groups"] == 0


@pytest.mark.parametrize("layout", ["gzip", "crlf", "wrapped", "lowercase", "no_final_newline"])
def test_input_layouts_give_the_same_records(tmp_path, layout):
    records = A if layout != "lowercase" else [(h, s.lower()) for h, s in A]
    path = tmp_path / "a.fa"
    if layout == "no_final_newline":
        write_fasta(path, records)
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    else:
        write_fasta(path, records, gz=layout == "gzip", crlf=layout == "crlf", width=5 if layout == "wrapped" else 0)
    res = invoke(main, [path, "-o", tmp_path / "out.fa", "--json", tmp_path / "s.json"])
    assert res.exit_code == 0, res.output
    assert read_records(tmp_path / "out.fa") == [records[0], records[2], records[4]]
    assert counts(tmp_path)["records_out"] == 3


def test_tsv_dataset_input(tmp_path):
    table = tmp_path / "d.tsv"
    table.write_text("id\tsequence\tlabel\nx\tACGTAA\t1\ny\tTTACGT\t1\nz\tGGGAAA\t0\n")
    res = invoke(main, [table, "-o", tmp_path / "out.fa"])
    assert res.exit_code == 0, res.output
    assert read_records(tmp_path / "out.fa") == [("x label=1", "ACGTAA"), ("z label=0", "GGGAAA")]


def test_label_for_is_appended_only_where_missing(tmp_path):
    a = write_fasta(tmp_path / "a.fa", [("p1", "ACGTAA"), ("p2 label=2", "GGGAAA")])
    res = invoke(main, [a, "--label-for", f"{a}=1", "-o", tmp_path / "out.fa"])
    assert res.exit_code == 0, res.output
    assert read_records(tmp_path / "out.fa") == [("p1 label=1", "ACGTAA"), ("p2 label=2", "GGGAAA")]


def test_golden_output_and_clusters(tmp_path, monkeypatch):
    for name in ("enhancers.fa", "background.fa"):
        shutil.copy(TEST_DATA / "dedup" / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    res = invoke(main, ["enhancers.fa", "background.fa", "--label-for", "background.fa=0",
                        "-o", "out.fa", "--clusters", "clusters.tsv"])
    assert res.exit_code == 0, res.output
    for produced, expected in (("out.fa", "expected_dedup.fa"), ("clusters.tsv", "expected_clusters.tsv")):
        got = (tmp_path / produced).read_text().splitlines(keepends=True)
        want = (TEST_DATA / "dedup" / expected).read_text().splitlines(keepends=True)
        diff = "".join(difflib.unified_diff(want, got, expected, produced))
        assert not diff, diff


def error_of(tmp_path, *args):
    res = invoke(main, [*args, "-o", tmp_path / "out.fa"])
    assert res.exit_code == 2
    assert not (tmp_path / "out.fa").exists()
    return res.output.strip().splitlines()[-1]


def test_empty_file(tmp_path):
    (tmp_path / "e.fa").write_text("")
    assert "empty" in error_of(tmp_path, tmp_path / "e.fa")


def test_text_before_first_header(tmp_path):
    (tmp_path / "m.fa").write_text("ACGT\n>a\nACGT\n")
    msg = error_of(tmp_path, tmp_path / "m.fa")
    assert "m.fa:1: not FASTA" in msg  # neither FASTA nor a table with a 'sequence' column
    (tmp_path / "n.fa").write_text(">a\nACGT\n>\nACGT\n")
    assert "n.fa:3: FASTA header has no identifier" in error_of(tmp_path, tmp_path / "n.fa")


def test_non_iupac_letters_report_the_record_line(tmp_path):
    write_fasta(tmp_path / "x.fa", [("a", "ACGT"), ("b", "ACGT"), ("c", "ACXT")])
    msg = error_of(tmp_path, tmp_path / "x.fa")
    assert "x.fa:6:" in msg and "'X'" in msg


def test_duplicate_ids_within_and_across_files(tmp_path):
    write_fasta(tmp_path / "d.fa", [("a", "ACGT"), ("b", "AAAA"), ("a", "CCCC")])
    assert "d.fa:5: duplicate record id" in error_of(tmp_path, tmp_path / "d.fa")
    write_fasta(tmp_path / "e.fa", [("q", "ACGT")])
    write_fasta(tmp_path / "f.fa", [("q", "GGGG")])
    assert "f.fa:1: duplicate record id (first seen at" in error_of(tmp_path, tmp_path / "e.fa", tmp_path / "f.fa")


def test_empty_sequence_is_an_error(tmp_path):
    (tmp_path / "s.fa").write_text(">a\nACGT\n>b\n>c\nACGT\n")
    assert "s.fa:3: record 'b' has an empty sequence" in error_of(tmp_path, tmp_path / "s.fa")


def test_bad_label_for_and_overwriting_input(tmp_path):
    a = write_fasta(tmp_path / "a.fa", A)
    assert "FILE=LABEL" in error_of(tmp_path, a, "--label-for", "nolabel")
    assert "not one of the inputs" in error_of(tmp_path, a, "--label-for", "other.fa=1")
    res = invoke(main, [a, "-o", a])
    assert res.exit_code == 2 and "overwrite the input" in res.output
