"""Bad inputs and options: one-line error, exit 2, and no output file left behind."""

import json
import sys

import pytest
from score_helpers import make_cnn_dir, random_records, run_cli, write_fasta, write_genome


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_cnn_dir(tmp_path_factory.mktemp("bad") / "cnn", width=80)


@pytest.fixture
def inputs(tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(5, 70), region=True)
    genome = tmp_path / "g.fa"
    write_genome(genome)
    return fa, genome


def _fails(args, tmp_path, message):
    before = set(tmp_path.rglob("*"))
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if not line.startswith("[score-regions]")]
    assert len(errors) == 1 and errors[0].startswith("Error:"), result.output
    assert message in errors[0]
    new = {p for p in set(tmp_path.rglob("*")) - before if not p.name.endswith(".fai")}
    assert not new, f"left behind: {new}"


def test_missing_model_dir(inputs, tmp_path):
    _fails(["--model", tmp_path / "nope", "--fasta", inputs[0], "-o", tmp_path / "s.tsv"], tmp_path, "model directory not found")


def test_folder_that_is_not_a_model(inputs, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    _fails(["--model", folder, "--fasta", inputs[0], "-o", tmp_path / "s.tsv"], tmp_path, "not a model directory")


def test_corrupt_weights(model, inputs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    _fails(["--model", broken, "--fasta", inputs[0], "-o", tmp_path / "s.tsv"], tmp_path, "model.safetensors")


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    (">a label=1\n\n>b label=0\nACGT\n", "empty sequence"),
    (">a\nACGT\n>a\nACGA\n", "duplicate record id"),
    (">a\nACGT\n>b\nAC-GT\n", "not IUPAC"),
])
def test_bad_fasta(model, tmp_path, text, message):
    fa = tmp_path / "bad.fa"
    fa.write_text(text)
    _fails(["--model", model, "--fasta", fa, "-o", tmp_path / "s.tsv"], tmp_path, message)


@pytest.mark.parametrize("shard", ["3/2", "0/2", "1/0", "a/b", "2"])
def test_bad_shard(model, inputs, tmp_path, shard):
    _fails(["--model", model, "--fasta", inputs[0], "-o", tmp_path / "s.tsv", "--shard", shard], tmp_path, "--shard")


@pytest.mark.parametrize("extra, message", [
    ([], "exactly one input"),
    (["FASTA", "--tile"], "exactly one input"),
    (["--bed", "PATH"], "needs --genome"),
    (["FASTA", "--genome", "GENOME"], "--genome is only used"),
    (["FASTA", "--bedgraph", "t.bg"], "use them with --tile"),
    (["FASTA", "--rejects", "r.tsv"], "use it with --bed"),
    (["--tile", "--genome", "GENOME", "--chroms", "^chrZ$"], "no chromosome"),
    (["--tile", "--genome", "GENOME", "--width", "5000"], "shorter than one"),
    (["--tile", "--genome", "GENOME", "--bigwig", "t.bw", "--shard", "1/2"], "--bigwig cannot be split"),
    (["FASTA", "--bed-out", "s.tsv"], "same file name"),
])
def test_bad_option_combinations(model, inputs, tmp_path, extra, message):
    fa, genome = inputs
    subst = {"FASTA": ["--fasta", fa], "GENOME": [genome], "PATH": [fa]}
    args = [y for x in extra for y in subst.get(x, [x])]
    args = [tmp_path / a if a in ("t.bg", "r.tsv", "t.bw", "s.tsv") else a for a in args]
    _fails(["--model", model, "-o", tmp_path / "s.tsv", *args], tmp_path, message)


def test_output_over_input(model, inputs, tmp_path):
    _fails(["--model", model, "--fasta", inputs[0], "-o", inputs[0]], tmp_path, "overwrite the input")


def test_bigwig_without_pybigwig(model, inputs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyBigWig", None)
    _fails(["--model", model, "--tile", "--genome", inputs[1], "-o", tmp_path / "s.tsv", "--bigwig", tmp_path / "t.bw"],
           tmp_path, "pyBigWig")


def test_cuda_requested_without_cuda(model, inputs, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    _fails(["--model", model, "--fasta", inputs[0], "-o", tmp_path / "s.tsv", "--device", "cuda"], tmp_path, "CUDA")


def test_bad_calibration(model, inputs, tmp_path):
    broken = tmp_path / "cal"
    broken.mkdir()
    for f in model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "calibration.json").write_text(json.dumps({"temperature": 0, "threshold": 0.5}))
    _fails(["--model", broken, "--fasta", inputs[0], "-o", tmp_path / "s.tsv"], tmp_path, "temperature")
