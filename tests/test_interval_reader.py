"""read_intervals: BED3 to BED12, narrowPeak summits, header lines, and malformed rows."""

import gzip

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.io.intervals import read_intervals

BED12 = "chr1\t100\t500\tfeat\t960\t+\t120\t480\t255,0,0\t2\t50,100\t0,300"
NARROWPEAK = "chr1\t1000\t1400\tpeak1\t87\t.\t6.5\t12.25\t9.75\t180"


def _write(tmp_path, text, name="in.bed"):
    path = tmp_path / name
    path.write_text(text, newline="")
    return path


def _read(tmp_path, text, **kwargs):
    return list(read_intervals(_write(tmp_path, text), **kwargs))


def _error(tmp_path, text, **kwargs) -> tuple[UserError, str]:
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as info:
        list(read_intervals(path, **kwargs))
    return info.value, str(path)


@pytest.mark.parametrize("ncols", range(3, 13))
def test_bed3_to_bed12(tmp_path, ncols):
    fields = BED12.split("\t")[:ncols]
    (iv,) = _read(tmp_path, "\t".join(fields) + "\n")
    assert (iv.chrom, iv.start, iv.end) == ("chr1", 100, 500)
    assert iv.name == (fields[3] if ncols > 3 else ".")
    assert iv.score == (fields[4] if ncols > 4 else "0")
    assert iv.strand == (fields[5] if ncols > 5 else ".")
    assert iv.fields == fields
    assert iv.line == 1
    if ncols != 10:
        assert iv.summit is None


def test_narrowpeak_summit_is_absolute(tmp_path):
    (iv,) = _read(tmp_path, NARROWPEAK + "\n")
    assert iv.summit == 1180
    assert (iv.signal, iv.pvalue, iv.qvalue) == (6.5, 12.25, 9.75)
    assert iv.name == "peak1"


def test_narrowpeak_summit_minus_one_means_none(tmp_path):
    (iv,) = _read(tmp_path, NARROWPEAK.rsplit("\t", 1)[0] + "\t-1\n")
    assert iv.summit is None


def test_narrowpeak_summit_zero_is_the_start(tmp_path):
    (iv,) = _read(tmp_path, NARROWPEAK.rsplit("\t", 1)[0] + "\t0\n")
    assert iv.summit == 1000


def test_summit_column_can_be_named(tmp_path):
    (iv,) = _read(tmp_path, "chr2\t10\t90\tx\t0\t.\t40\n", summit_col=7)
    assert iv.summit == 50


def test_missing_named_summit_column(tmp_path):
    err, path = _error(tmp_path, "chr2\t10\t90\n", summit_col=7)
    assert (err.path, err.line) == (path, 1)
    assert "summit column 7" in err.message


def test_header_comment_and_blank_lines_are_skipped(tmp_path):
    text = (
        'track name="peaks" description="x"\n'
        "browser position chr1:1-1000\n"
        "# a comment\n"
        "\n"
        "chr1\t10\t20\n"
        "   \n"
        "chr1\t30\t40\n"
    )
    ivs = _read(tmp_path, text)
    assert [(iv.start, iv.line) for iv in ivs] == [(10, 5), (30, 7)]


def test_crlf_line_ends(tmp_path):
    (iv,) = _read(tmp_path, NARROWPEAK + "\r\n")
    assert iv.summit == 1180
    assert iv.fields[-1] == "180"


def test_space_separated_lines_are_accepted(tmp_path):
    (iv,) = _read(tmp_path, "chr1 5 15 name\n")
    assert (iv.chrom, iv.start, iv.end, iv.name) == ("chr1", 5, 15, "name")


def test_gzip(tmp_path):
    path = tmp_path / "peaks.narrowPeak.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("track x\n" + NARROWPEAK + "\n")
    (iv,) = read_intervals(path)
    assert (iv.summit, iv.line) == (1180, 2)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(("chr1\t1\t2\n" * 50_000).encode())
    path = tmp_path / "cut.bed.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError) as info:
        list(read_intervals(path))
    assert info.value.path == str(path)
    assert "gzip" in info.value.message


@pytest.mark.parametrize(
    "row, words",
    [
        ("chr1\t100", "at least 3"),
        ("chr1", "at least 3"),
        ("chr1\tabc\t200", "integers"),
        ("chr1\t100\t2e3", "integers"),
        ("chr1\t100.5\t200", "integers"),
        ("chr1\t-5\t200", "negative start"),
        ("chr1\t200\t200", "not after start"),
        ("chr1\t300\t200", "not after start"),
        ("chr1\t100\t200\tn\t0\tx", "strand"),
        ("chr1\t100\t200\tn\t0\t+-", "strand"),
        ("chr1\t1000\t1400\tp\t0\t.\t1\t1\t1\tmid", "summit offset"),
        ("chr1\t1000\t1400\tp\t0\t.\t1\t1\t1\t-7", "negative"),
        ("\t100\t200", "empty chromosome"),
    ],
)
def test_bad_rows_raise_with_file_and_line(tmp_path, row, words):
    err, path = _error(tmp_path, f"# header\nchr1\t1\t2\n{row}\nchr1\t5\t6\n")
    assert err.path == path
    assert err.line == 3
    assert words in err.message
    assert str(err).startswith(f"{path}:3: ")


def test_on_bad_receives_line_text_and_reason(tmp_path):
    text = "chr1\t1\t2\nchr1\tx\t5\nchr1\t9\t3\nchr1\t10\t20\tn\t0\t?\nchr1\t7\t8\n"
    bad = []
    ivs = _read(tmp_path, text, on_bad=lambda line, raw, reason: bad.append((line, raw, reason)))
    assert [iv.start for iv in ivs] == [1, 7]
    assert [(b[0], b[1]) for b in bad] == [(2, "chr1\tx\t5"), (3, "chr1\t9\t3"), (4, "chr1\t10\t20\tn\t0\t?")]
    assert "integers" in bad[0][2] and "not after start" in bad[1][2] and "strand" in bad[2][2]


def test_non_utf8_line(tmp_path):
    path = tmp_path / "bin.bed"
    path.write_bytes(b"chr1\t1\t2\n\xff\xfe\t1\t2\n")
    with pytest.raises(UserError) as info:
        list(read_intervals(path))
    assert (info.value.path, info.value.line) == (str(path), 2)
    bad = []
    assert len(list(read_intervals(path, on_bad=lambda *a: bad.append(a)))) == 1
    assert bad[0][0] == 2 and "UTF-8" in bad[0][2]


def test_empty_file(tmp_path):
    err, path = _error(tmp_path, "")
    assert err.path == path
    assert "no intervals" in err.message


def test_only_header_lines_is_empty(tmp_path):
    err, _ = _error(tmp_path, "track name=x\n# nothing\n\n")
    assert "no intervals" in err.message


def test_all_rows_bad_with_on_bad_is_empty(tmp_path):
    bad = []
    path = _write(tmp_path, "chr1\tx\t5\n")
    with pytest.raises(UserError) as info:
        list(read_intervals(path, on_bad=lambda *a: bad.append(a)))
    assert "no intervals" in info.value.message
    assert len(bad) == 1


def test_missing_file(tmp_path):
    with pytest.raises(UserError) as info:
        list(read_intervals(tmp_path / "absent.bed"))
    assert "not found" in info.value.message
