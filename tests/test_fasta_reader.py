"""read_fasta / write_fasta: compression, line ends, layout, case, IUPAC, and malformed files."""

import gzip
import io

import pysam
import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.io.fasta import read_fasta, write_fasta

TWO_RECORDS = ">chr1 first record\nACGTACGTAC\nGTNNacgt\n>chr2\nTTTTGGGG\n"
EXPECTED = [("chr1", "first record", "ACGTACGTACGTNNacgt", 1), ("chr2", "", "TTTTGGGG", 4)]


def _write(tmp_path, text, name="in.fa", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, newline="")
    return path


def _records(path):
    return [(r.id, r.description, r.seq, r.line) for r in read_fasta(path)]


def _error(path) -> UserError:
    with pytest.raises(UserError) as info:
        list(read_fasta(path))
    return info.value


def test_plain_wrapped_records(tmp_path):
    assert _records(_write(tmp_path, TWO_RECORDS)) == EXPECTED


def test_single_line_records_read_the_same(tmp_path):
    text = ">chr1 first record\nACGTACGTACGTNNacgt\n>chr2\nTTTTGGGG\n"
    assert [r[:3] for r in _records(_write(tmp_path, text))] == [r[:3] for r in EXPECTED]


def test_gzip(tmp_path):
    path = tmp_path / "in.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(TWO_RECORDS)
    assert _records(path) == EXPECTED


def test_bgzip(tmp_path):
    plain = _write(tmp_path, TWO_RECORDS)
    bgz = tmp_path / "in.fa.bgz"
    pysam.tabix_compress(str(plain), str(bgz))
    assert bgz.read_bytes()[:2] == b"\x1f\x8b"
    assert _records(bgz) == EXPECTED


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "no_suffix.fa"
    path.write_bytes(gzip.compress(TWO_RECORDS.encode()))
    assert _records(path) == EXPECTED


def test_crlf_line_ends(tmp_path):
    path = _write(tmp_path, TWO_RECORDS.replace("\n", "\r\n"))
    assert _records(path) == EXPECTED


def test_blank_lines_anywhere(tmp_path):
    text = "\n\n>chr1 first record\nACGTACGTAC\n\nGTNNacgt\n\n\n>chr2\n\nTTTTGGGG\n\n"
    assert [r[:3] for r in _records(_write(tmp_path, text))] == [r[:3] for r in EXPECTED]


def test_header_line_numbers_count_blank_lines(tmp_path):
    text = "\n>a\nAC\n\n>b\nGT\n"
    assert [r.line for r in read_fasta(_write(tmp_path, text))] == [2, 5]


def test_no_final_newline(tmp_path):
    assert _records(_write(tmp_path, TWO_RECORDS.rstrip("\n"))) == EXPECTED


def test_lowercase_soft_masking_is_kept(tmp_path):
    (rec,) = read_fasta(_write(tmp_path, ">a\nacgtNNACGTnn\n"))
    assert rec.seq == "acgtNNACGTnn"


def test_all_iupac_codes_accepted_in_both_cases(tmp_path):
    seq = "ACGTNRYSWKMBDHVacgtnryswkmbdhv"
    (rec,) = read_fasta(_write(tmp_path, f">iupac\n{seq}\n"))
    assert rec.seq == seq


def test_empty_sequence_is_allowed(tmp_path):
    recs = list(read_fasta(_write(tmp_path, ">empty\n>full\nACGT\n")))
    assert [(r.id, r.seq) for r in recs] == [("empty", ""), ("full", "ACGT")]


def test_semicolon_comment_before_first_header_is_ignored(tmp_path):
    assert [r.id for r in read_fasta(_write(tmp_path, ";old-style comment\n>a\nAC\n"))] == ["a"]


@pytest.mark.parametrize("bad", ["ACGTX", "ACGT-", "ACG*T", "AC.GT", "ACGU", "AC1GT"])
def test_invalid_characters_name_file_and_line(tmp_path, bad):
    path = _write(tmp_path, f">ok\nACGT\n>bad\nACGTACGT\n{bad}\n")
    err = _error(path)
    assert err.path == str(path)
    assert err.line == 5
    assert "IUPAC" in err.message
    assert str(err).startswith(f"{path}:5: ")


def test_invalid_characters_not_checked_when_validation_is_off(tmp_path):
    (rec,) = read_fasta(_write(tmp_path, ">a\nAC-GT\n"), validate=False)
    assert rec.seq == "AC-GT"


def test_text_before_first_header(tmp_path):
    path = _write(tmp_path, "\nACGT\n>a\nACGT\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 2)
    assert "before the first" in err.message


def test_empty_file(tmp_path):
    path = _write(tmp_path, "")
    err = _error(path)
    assert err.path == str(path)
    assert "no FASTA records" in err.message


def test_only_blank_lines_is_empty(tmp_path):
    assert "no FASTA records" in _error(_write(tmp_path, "\n\r\n\n")).message


def test_header_without_id(tmp_path):
    path = _write(tmp_path, ">a\nAC\n>   \nGT\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "identifier" in err.message


def test_truncated_gzip(tmp_path):
    data = gzip.compress((">a\n" + "ACGT" * 50_000 + "\n").encode())
    path = _write(tmp_path, data[: len(data) // 2], name="cut.fa.gz", mode="wb")
    err = _error(path)
    assert err.path == str(path)
    assert "gzip" in err.message


def test_missing_file(tmp_path):
    err = _error(tmp_path / "absent.fa")
    assert "not found" in err.message


def test_folder_instead_of_file(tmp_path):
    assert "folder" in _error(tmp_path).message


def test_write_fasta_single_line_and_wrapped():
    fh = io.StringIO()
    write_fasta(fh, "a label=1", "ACGTACGTAC")
    write_fasta(fh, "b", "ACGTACGTAC", width=4)
    write_fasta(fh, "c", "", width=4)
    assert fh.getvalue() == ">a label=1\nACGTACGTAC\n>b\nACGT\nACGT\nAC\n>c\n\n"


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / "rt.fa"
    with open(path, "w") as fh:
        write_fasta(fh, "x desc", "acgtNNRY" * 20, width=60)
    (rec,) = read_fasta(path)
    assert (rec.id, rec.description, rec.seq) == ("x", "desc", "acgtNNRY" * 20)
