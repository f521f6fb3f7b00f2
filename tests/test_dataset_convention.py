"""The labelled dataset convention: FASTA with label=/region= headers, TSV and CSV tables."""

import gzip
import io

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.io.dataset import (
    LabelledRecord,
    Region,
    format_header,
    parse_description,
    parse_region,
    read_dataset,
)
from enhancer_tools.io.fasta import write_fasta


def _write(tmp_path, text, name="data.fa"):
    path = tmp_path / name
    path.write_text(text, newline="")
    return path


def _error(path, **kwargs) -> UserError:
    with pytest.raises(UserError) as info:
        list(read_dataset(path, **kwargs))
    return info.value


def test_fasta_with_label_and_region(tmp_path):
    text = ">peak_1 label=1 region=chr1:1000-2000(+) gc=0.41\nACGTacgt\n>bg_1 label=0 region=chr2:5-1005(-)\nNNACGT\n"
    recs = list(read_dataset(_write(tmp_path, text)))
    assert [(r.id, r.label, r.seq, r.line) for r in recs] == [("peak_1", "1", "ACGTacgt", 1), ("bg_1", "0", "NNACGT", 3)]
    assert recs[0].attrs == {"region": "chr1:1000-2000(+)", "gc": "0.41"}
    assert parse_region(recs[1].attrs["region"]) == Region("chr2", 5, 1005, "-")


def test_label_is_text_and_may_be_a_class_name(tmp_path):
    (rec,) = read_dataset(_write(tmp_path, ">a label=strong_enhancer\nACGT\n"))
    assert rec.label == "strong_enhancer"


def test_words_without_equals_are_kept_as_desc(tmp_path):
    (rec,) = read_dataset(_write(tmp_path, ">a some free text label=1\nACGT\n"))
    assert rec.label == "1"
    assert rec.attrs == {"desc": "some_free_text"}


def test_header_round_trip():
    rec = LabelledRecord("w1", "ACGT", "1", {"region": "chr1:0-4(.)", "source": "demo"})
    assert rec.header() == "w1 label=1 region=chr1:0-4(.) source=demo"
    assert parse_description(rec.header().split(None, 1)[1]) == ("1", {"region": "chr1:0-4(.)", "source": "demo"})
    assert format_header("x", None) == "x"
    assert format_header("x", "0", {"label": "ignored", "k": "v"}) == "x label=0 k=v"
    fh = io.StringIO()
    write_fasta(fh, rec.header(), rec.seq)
    assert fh.getvalue() == ">w1 label=1 region=chr1:0-4(.) source=demo\nACGT\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("chr1:100-200(+)", Region("chr1", 100, 200, "+")),
        ("chr1:100-200", Region("chr1", 100, 200, ".")),
        ("chrUn_KI270302v1:0-5(.)", Region("chrUn_KI270302v1", 0, 5, ".")),
        ("chr1:100-200(x)", None),
        ("chr1:a-200", None),
        ("chr1 100 200", None),
    ],
)
def test_parse_region(text, expected):
    assert parse_region(text) == expected


def test_region_str():
    assert str(Region("chr3", 1, 9, "-")) == "chr3:1-9(-)"


def test_tsv_with_sequence_and_label(tmp_path):
    text = "id\tsequence\tlabel\tsource\nr1\tACGT\t1\tpeaks\nr2\tacgn\t0\t\n"
    recs = list(read_dataset(_write(tmp_path, text, "data.tsv")))
    assert [(r.id, r.seq, r.label, r.line) for r in recs] == [("r1", "ACGT", "1", 2), ("r2", "acgn", "0", 3)]
    assert recs[0].attrs == {"source": "peaks"}
    assert recs[1].attrs == {}


def test_dnabert2_csv_layout(tmp_path):
    """DNABERT-2 fine-tuning CSVs: header 'sequence,label', no id column."""
    text = "sequence,label\nACGTACGT,1\nTTTTAAAA,0\n"
    recs = list(read_dataset(_write(tmp_path, text, "train.csv")))
    assert [(r.id, r.seq, r.label) for r in recs] == [("row1", "ACGTACGT", "1"), ("row2", "TTTTAAAA", "0")]


def test_csv_with_unnamed_index_and_crlf(tmp_path):
    """The DNABERT_Enhancer sample layout: ',coordinate,sequence,class' with a 'label' column here."""
    text = ",coordinate,sequence,label\r\n0,chr1:1-5,ACGTA,1\r\n1,chr1:9-13,GGGCC,0\r\n"
    recs = list(read_dataset(_write(tmp_path, text, "s.csv")))
    assert [(r.seq, r.label, r.attrs["coordinate"]) for r in recs] == [("ACGTA", "1", "chr1:1-5"), ("GGGCC", "0", "chr1:9-13")]


def test_table_header_is_case_insensitive_and_blank_rows_skipped(tmp_path):
    text = "Sequence\tLabel\nACGT\t1\n\n\t\nGGCC\t0\n"
    assert [(r.seq, r.line) for r in read_dataset(_write(tmp_path, text, "d.tsv"))] == [("ACGT", 2), ("GGCC", 5)]


def test_gzip_table(tmp_path):
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("sequence,label\nACGT,1\n")
    assert [r.label for r in read_dataset(path)] == ["1"]


def test_default_label_fills_missing_labels(tmp_path):
    recs = list(read_dataset(_write(tmp_path, ">a\nACGT\n>b label=1\nGG\n"), default_label="0"))
    assert [r.label for r in recs] == ["0", "1"]
    recs = list(read_dataset(_write(tmp_path, "sequence\nACGT\n", "t.tsv"), default_label="1"))
    assert [r.label for r in recs] == ["1"]


def test_missing_label_in_fasta(tmp_path):
    path = _write(tmp_path, ">a label=1\nACGT\n>b region=chr1:1-2\nACGT\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "label=" in err.message


def test_missing_label_allowed_when_not_required(tmp_path):
    recs = list(read_dataset(_write(tmp_path, ">a\nACGT\n"), require_label=False))
    assert recs[0].label is None


def test_table_without_label_column(tmp_path):
    path = _write(tmp_path, "id\tsequence\nx\tACGT\n", "d.tsv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 1)
    assert "label" in err.message


def test_table_without_sequence_column(tmp_path):
    path = _write(tmp_path, "seq\tlabel\nACGT\t1\n", "d.tsv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 1)
    assert "'sequence'" in err.message


def test_duplicate_ids(tmp_path):
    path = _write(tmp_path, ">a label=1\nACGT\n>b label=0\nAC\n>a label=0\nGG\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 5)
    assert "duplicate" in err.message
    assert len(list(read_dataset(path, unique_ids=False))) == 3


def test_duplicate_ids_in_table(tmp_path):
    path = _write(tmp_path, "id,sequence,label\nx,ACGT,1\nx,GG,0\n", "d.csv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)


def test_empty_sequence_in_fasta(tmp_path):
    path = _write(tmp_path, ">a label=1\nACGT\n>b label=0\n>c label=1\nAC\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "empty sequence" in err.message


def test_empty_sequence_in_table(tmp_path):
    path = _write(tmp_path, "sequence,label\nACGT,1\n,0\n", "d.csv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "empty sequence" in err.message


def test_wrong_column_count_in_table(tmp_path):
    path = _write(tmp_path, "sequence\tlabel\nACGT\t1\nACGT\t1\textra\n", "d.tsv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "columns" in err.message


def test_invalid_characters_in_table(tmp_path):
    path = _write(tmp_path, "sequence,label\nACGT,1\nAC-GT,0\n", "d.csv")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "IUPAC" in err.message


def test_invalid_characters_in_fasta(tmp_path):
    path = _write(tmp_path, ">a label=1\nACGT\nACXT\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)


def test_empty_file(tmp_path):
    path = _write(tmp_path, "\n\n")
    err = _error(path)
    assert err.path == str(path)
    assert "empty" in err.message


def test_non_utf8_row_in_table_names_its_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"sequence,label\nACGT,1\n\xff\xfe,0\n")
    err = _error(path)
    assert (err.path, err.line) == (str(path), 3)
    assert "UTF-8" in err.message


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfsequence,label\r\nACGT,1\r\n")
    assert [(r.seq, r.label) for r in read_dataset(path)] == [("ACGT", "1")]


@pytest.mark.parametrize("name, body", [("d.csv.gz", b"sequence,label\n" + b"ACGT,1\n" * 100_000),
                                        ("d.fa.gz", b">a label=1\n" + b"ACGT\n" * 100_000)])
def test_truncated_gzip(tmp_path, name, body):
    data = gzip.compress(body)
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    err = _error(path)
    assert err.path == str(path)
    assert "gzip" in err.message
