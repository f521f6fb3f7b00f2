"""score-regions writes the scores TSV (and calls BED, run info) for every model kind."""

import json

import pytest
from score_helpers import make_cnn_dir, make_dnabert2_dir, random_records, read_tsv, run_cli, write_fasta

COLUMNS = ["id", "chrom", "start", "end", "p_forward", "p_reverse", "p", "call"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"cnn": make_cnn_dir(root / "cnn"), "dnabert2": make_dnabert2_dir(root / "dnabert2"),
            "plain_hf": make_dnabert2_dir(root / "plain", plain_hf=True)}


@pytest.mark.parametrize("kind", ["cnn", "dnabert2", "plain_hf"])
def test_scores_tsv_columns_and_run_info(models, tmp_path, kind):
    fa = write_fasta(tmp_path / "in.fa", random_records(20, 70), region=True)
    out, js, bed = tmp_path / "scores.tsv", tmp_path / "run.json", tmp_path / "calls.bed"
    result = run_cli(["--model", models[kind], "--fasta", fa, "-o", out, "--json", js, "--bed-out", bed, "--batch-size", 8])
    assert result.exit_code == 0, result.output
    header, rows = read_tsv(out)
    assert header == COLUMNS + ["label"]
    assert [r[0] for r in rows] == [f"r{i}" for i in range(20)]
    assert rows[3][1:4] == ["chr1", "300", "370"]
    assert [r[8] for r in rows] == [str(i % 2) for i in range(20)]
    info = json.loads(js.read_text())
    expected = {"cnn": (2.0, 0.5), "dnabert2": (1.5, 0.4), "plain_hf": (1.0, 0.5)}[kind]
    assert (info["temperature"], info["threshold"]) == expected
    assert info["model"]["kind"] == ("enhancernet" if kind == "cnn" else "dnabert2")
    for row in rows:
        pf, pr, p = map(float, row[4:7])
        assert 0 <= min(pf, pr, p) and max(pf, pr, p) <= 1 and min(pf, pr) - 1e-6 <= p <= max(pf, pr) + 1e-6
        assert row[7] == ("1" if p >= expected[1] else "0")
    called = [r for r in rows if r[7] == "1"]
    assert info["counts"]["sequences_scored"] == 20 and info["counts"]["calls"] == len(called)
    assert info["sequences_per_s"] > 0
    bed_lines = [line.split("\t") for line in bed.read_text().splitlines()]
    assert [b[3] for b in bed_lines] == [r[0] for r in called]
    assert all(b[4] == str(round(1000 * float(r[6]))) and b[5] == "." for b, r in zip(bed_lines, called))


def test_unlabelled_input_without_regions(models, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(5, 70), with_label=False)
    out = tmp_path / "scores.tsv"
    assert run_cli(["--model", models["cnn"], "--fasta", fa, "-o", out]).exit_code == 0
    header, rows = read_tsv(out)
    assert header == COLUMNS
    assert all(r[1:4] == [".", ".", "."] for r in rows)


def test_no_rc_average_scores_forward_only(models, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(6, 70))
    avg, fwd = tmp_path / "avg.tsv", tmp_path / "fwd.tsv"
    assert run_cli(["--model", models["cnn"], "--fasta", fa, "-o", avg]).exit_code == 0
    assert run_cli(["--model", models["cnn"], "--fasta", fa, "-o", fwd, "--no-rc-average"]).exit_code == 0
    for a, f in zip(read_tsv(avg)[1], read_tsv(fwd)[1]):
        assert f[5] == "NA" and f[6] == f[4] == a[4]


def test_threshold_override_changes_calls(models, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(10, 70))
    for threshold, call in (("0", "1"), ("1", "0")):
        out = tmp_path / f"t{threshold}.tsv"
        assert run_cli(["--model", models["cnn"], "--fasta", fa, "-o", out, "--threshold", threshold]).exit_code == 0
        assert {r[7] for r in read_tsv(out)[1]} == {call}


def test_bed_out_needs_regions(models, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(4, 70))
    out, bed = tmp_path / "s.tsv", tmp_path / "c.bed"
    result = run_cli(["--model", models["cnn"], "--fasta", fa, "-o", out, "--bed-out", bed, "--threshold", "0"])
    assert result.exit_code == 2 and "region=" in result.output
    assert not out.exists() and not bed.exists()
