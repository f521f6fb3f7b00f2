"""report refuses bad input with one line on stderr, exit 2, and no report folder."""

import numpy as np
import pytest
from click.testing import CliRunner
from report_fakes import SCORES_HEADER, make_labels, make_scores, write_scores

from enhancer_tools.cli.report import main


@pytest.fixture
def good(tmp_path):
    label = make_labels(60)
    return write_scores(tmp_path / "good.tsv", label, make_scores(label, 1.0, 1))


def run_report(tmp_path, *args):
    out = tmp_path / "rep"
    result = CliRunner().invoke(main, [*args, "-o", str(out), "--bootstrap", "0", "--quiet"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert not out.exists()
    return lines[0]


def test_missing_label_column(tmp_path):
    bad = tmp_path / "nolabel.tsv"
    bad.write_text("id\tchrom\tstart\tend\tp_forward\tp_reverse\tp\tcall\ns1\tchr1\t0\t10\t0.5\t0.5\t0.5\t1\n")
    assert "missing column(s) label" in run_report(tmp_path, "--scores", f"A={bad}")


@pytest.mark.parametrize("spec", ["just_a_path.tsv", "=x.tsv", "A=", "bad name=x.tsv"])
def test_malformed_name_path(tmp_path, spec):
    assert "--scores" in run_report(tmp_path, "--scores", spec)


def test_missing_scores_file(tmp_path):
    assert "not found" in run_report(tmp_path, "--scores", f"A={tmp_path / 'nope.tsv'}")


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    assert "empty scores file" in run_report(tmp_path, "--scores", f"A={empty}")
    header = tmp_path / "header.tsv"
    header.write_text(SCORES_HEADER)
    assert "no scored rows" in run_report(tmp_path, "--scores", f"A={header}")


@pytest.mark.parametrize("value,message", [("high", "not a number"), ("nan", "[0, 1]"), ("1.5", "[0, 1]")])
def test_non_numeric_or_out_of_range_p(tmp_path, good, value, message):
    lines = good.read_text().splitlines()
    fields = lines[3].split("\t")
    fields[6] = value
    lines[3] = "\t".join(fields)
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join(lines) + "\n")
    line = run_report(tmp_path, "--scores", f"A={bad}")
    assert message in line and "bad.tsv:4:" in line


def test_label_not_binary_and_single_class(tmp_path, good):
    text = good.read_text().splitlines()
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join(text[:2] + [text[2].rsplit("\t", 1)[0] + "\tenhancer"]) + "\n")
    assert "'label' must be 0 or 1" in run_report(tmp_path, "--scores", f"A={bad}")
    one = tmp_path / "one.tsv"
    label = np.ones(5, dtype=int)
    write_scores(one, label, np.full(5, 0.7))
    assert "both classes" in run_report(tmp_path, "--scores", f"A={one}")


def test_ids_that_do_not_match_across_models(tmp_path, good):
    other = tmp_path / "other.tsv"
    other.write_text(good.read_text().replace("seq5\t", "seqX\t"))
    assert "different ids" in run_report(tmp_path, "--scores", f"A={good}", "--scores", f"B={other}")


def test_duplicate_ids_and_names(tmp_path, good):
    lines = good.read_text().splitlines()
    dup = tmp_path / "dup.tsv"
    dup.write_text("\n".join(lines + [lines[1]]) + "\n")
    assert "duplicate id" in run_report(tmp_path, "--scores", f"A={dup}")
    assert "unique" in run_report(tmp_path, "--scores", f"A={good}", "--scores", f"A={good}")


def test_refuses_a_folder_that_is_not_a_report(tmp_path, good):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["--scores", f"A={good}", "-o", str(out), "--bootstrap", "0"])
    assert result.exit_code == 2 and "not a report written by enhancer-tools" in result.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_stats_file_that_is_not_run_info(tmp_path, good):
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    assert "not an enhancer-tools run-info JSON" in run_report(tmp_path, "--scores", f"A={good}", "--stats", str(other))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert "not valid JSON" in run_report(tmp_path, "--scores", f"A={good}", "--stats", str(broken))
