"""explain-regions refuses, with one line and exit 2: gradients of a k-mer model, regions shorter
than the model's window, a malformed MEME file, a non-empty output folder (an earlier output
needs --force; anything else is never replaced)."""

import json
import random

import pytest
from explain_helpers import make_kmer_dir, run_explain
from score_helpers import make_cnn_dir, random_seq, write_fasta

from enhancer_tools.errors import UserError
from enhancer_tools.interpret.meme import read_meme


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    for fragment in fragments:
        assert fragment in line, line


@pytest.fixture
def fasta(tmp_path):
    rng = random.Random(1)
    return write_fasta(tmp_path / "in.fa", [(f"r{i}", 1, random_seq(rng, 40)) for i in range(3)])


def test_kmer_model_has_no_gradients(tmp_path, fasta):
    kmer = make_kmer_dir(tmp_path / "kmer")
    for method in ("ig", "both"):
        result = run_explain(["--model", kmer, "--fasta", fasta, "-o", tmp_path / f"o_{method}", "--method", method])
        _one_line_error(result, "kmer model has no gradients", "--method ism")
    assert not (tmp_path / "o_ig").exists()


def test_kmer_model_ism_works(tmp_path, fasta):
    kmer = make_kmer_dir(tmp_path / "kmer")
    result = run_explain(["--model", kmer, "--fasta", fasta, "-o", tmp_path / "o", "-q", "--plots", "0"])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "o" / "ism.tsv").read_text().splitlines()) == 1 + 3 * 40 * 3


def test_regions_shorter_than_the_window_are_refused(tmp_path):
    model = make_cnn_dir(tmp_path / "m", width=48)
    fa = write_fasta(tmp_path / "short.fa", [("ok", 1, "A" * 48), ("tiny", 1, "ACGT" * 5)])
    result = run_explain(["--model", model, "--fasta", fa, "-o", tmp_path / "o"])
    _one_line_error(result, "region tiny is 20 bp", "48 bp window")


@pytest.mark.parametrize("text,message", [
    ("MEME version 4\n\nMOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.1 0.2 0.3 0.4\n", "ends before"),
    ("MOTIF a\nletter-probability matrix: w= 2\n0.1 0.2 0.3\n0.1 0.2 0.3 0.4\n", "line 3"),
    ("MOTIF a\nletter-probability matrix: w= 1\n0.1 x 0.3 0.4\n", "4 numbers"),
    ("MOTIF a\nMOTIF b\n", "line 2: motif 'a' has no letter-probability matrix"),
    ("just text\n", "no motifs found"),
])
def test_malformed_meme_is_one_line_error(tmp_path, text, message):
    path = tmp_path / "bad.meme"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_meme(str(path))


def test_malformed_meme_through_the_cli(tmp_path, fasta):
    model = make_cnn_dir(tmp_path / "m", width=40)
    meme = tmp_path / "bad.meme"
    meme.write_text("MOTIF a\nletter-probability matrix: w= 1\nfoo\n")
    result = run_explain(["--model", model, "--fasta", fasta, "-o", tmp_path / "o", "--modisco", "--motifs", meme])
    _one_line_error(result, "bad.meme", "line 3")


def test_output_folder_rules(tmp_path, fasta):
    model = make_cnn_dir(tmp_path / "m", width=40)
    args = ["--model", model, "--fasta", fasta, "-q", "--plots", "0", "--method", "ig", "--steps", "2"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    _one_line_error(run_explain([*args, "-o", other, "--force"]), "not a explain-regions output")
    assert (other / "keep.txt").read_text() == "mine"
    out = tmp_path / "o"
    assert run_explain([*args, "-o", out]).exit_code == 0
    assert json.loads((out / "explain_regions.json").read_text())["tool"] == "explain-regions"
    _one_line_error(run_explain([*args, "-o", out]), "without --force")
    assert run_explain([*args, "-o", out, "--force"]).exit_code == 0


def test_exactly_one_input(tmp_path, fasta):
    model = make_cnn_dir(tmp_path / "m", width=40)
    _one_line_error(run_explain(["--model", model, "-o", tmp_path / "o"]), "exactly one input")
    _one_line_error(run_explain(["--model", model, "--bed", fasta, "-o", tmp_path / "o"]), "--bed needs --genome")
