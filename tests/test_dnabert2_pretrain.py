"""dnabert2-pretrain end to end on a small genome: the Hugging Face-layout output that
dnabert2-finetune --model reads, the run info, the output-folder rules, and one-line errors for
bad input with nothing written."""

import json

import pytest
import torch
from dnabert2_finetune_helpers import FIXTURES, finetune
from pretrain_helpers import pretrain_cli, small_genome, small_tokenizer
from synthetic_labelled import make_split

from enhancer_tools.models.dnabert2 import DNABERT2ForMaskedLM


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(tmp_path):
    genome = small_genome(tmp_path)
    return genome, small_tokenizer(genome, tmp_path / "tokenizer.json")


def _run(genome, tokenizer, out, *extra):
    return pretrain_cli("--genome", genome, "--init", "tiny", "--tokenizer", tokenizer, "-o", out,
                        "--max-length", 40, "--steps", 4, "--batch-size", 8, "--eval-every", 2, "--learning-rate", 1e-3,
                        "--val-fraction", 0.1, "--device", "cpu", "-j", 1, "-q", *extra)


def test_writes_a_masked_lm_directory_that_finetune_reads(tmp_path, data):
    genome, tokenizer = data
    out = tmp_path / "mlm"
    result = _run(genome, tokenizer, out, "--json", tmp_path / "run.json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "provenance.json",
                                                     "tokenizer.json"]
    assert not (tmp_path / "mlm.work").exists(), "a finished run removes its work folder"
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForMaskedLM"]
    assert json.loads((out / "provenance.json").read_text())["tool"] == "dnabert2-pretrain"
    from safetensors.torch import load_file

    keys = set(load_file(out / "model.safetensors"))
    assert "cls.predictions.transform.dense.weight" in keys and "cls.predictions.decoder.bias" in keys
    assert "cls.predictions.decoder.weight" not in keys, "the tied decoder is stored once, as the embeddings"
    model = DNABERT2ForMaskedLM.from_pretrained(out)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight

    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tool"] == "dnabert2-pretrain" and info["steps"] == 4
    assert info["counts"]["tiles_n_rich"] >= 1 and info["counts"]["tokens_seen"] > 0
    assert [e["step"] for e in info["pretraining"]] == [0, 2, 4]
    assert all(0 <= e["val_masked_accuracy"] <= 1 for e in info["pretraining"])
    assert info["validation"]["majority_token_accuracy"] is not None

    train, val = make_split(tmp_path, n_train=32, n_val=16, length=120)
    tuned = finetune("--train", train, "--val", val, "--model", out, "-o", tmp_path / "clf", "--max-length", 40,
                     "--epochs", 1, "--batch-size", 16, "--threads", 1, "--device", "cpu")
    assert tuned.exit_code == 0, tuned.output
    assert (tmp_path / "clf" / "model.json").is_file()


def test_mlm_directory_round_trips(tmp_path, data):
    genome, tokenizer = data
    assert _run(genome, tokenizer, tmp_path / "mlm").exit_code == 0
    first = DNABERT2ForMaskedLM.from_pretrained(tmp_path / "mlm")
    first.save_pretrained(tmp_path / "again", tokenizer_json=tmp_path / "mlm" / "tokenizer.json")
    second = DNABERT2ForMaskedLM.from_pretrained(tmp_path / "again")
    a, b = first.state_dict(), second.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    from safetensors.torch import load_file

    saved1, saved2 = load_file(tmp_path / "mlm" / "model.safetensors"), load_file(tmp_path / "again" / "model.safetensors")
    assert saved1.keys() == saved2.keys() and all(torch.equal(saved1[k], saved2[k]) for k in saved1)


def test_fasta_input(tmp_path, data):
    _, tokenizer = data
    seqs = tmp_path / "seqs.fa"
    seqs.write_text("".join(f">s{i}\n{'ACGTTGCAAGGT' * (10 + i)}\n" for i in range(40)))
    result = pretrain_cli("--fasta", seqs, "--init", "tiny", "--tokenizer", tokenizer, "-o", tmp_path / "mlm",
                          "--width", 100, "--max-length", 40, "--steps", 2, "--batch-size", 8, "--eval-every", 0,
                          "--val-fraction", 0.2, "--device", "cpu", "-j", 1)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mlm" / "model.safetensors").is_file()


def _nothing_written(tmp_path, out):
    assert not out.exists() and not (tmp_path / (out.name + ".work")).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_no_usable_tile(tmp_path, data):
    _, tokenizer = data
    gaps = tmp_path / "gaps.fa"
    gaps.write_text(">chr1\n" + "N" * 2000 + "\n>chr2\nACGT\n")
    out = tmp_path / "mlm"
    result = pretrain_cli("--genome", gaps, "--init", "tiny", "--tokenizer", tokenizer, "-o", out, "--width", 500,
                          "--device", "cpu", "-q")
    _one_line_error(result, "no usable 500 bp tile")
    _nothing_written(tmp_path, out)


def test_exclude_naming_an_unknown_chromosome(tmp_path, data):
    genome, tokenizer = data
    bed = tmp_path / "test.bed"
    bed.write_text("chr1\t10\t20\nchrUn_x\t5\t9\n")
    out = tmp_path / "mlm"
    result = _run(genome, tokenizer, out, "--exclude", bed)
    _one_line_error(result, f"{bed}:2:", "chrUn_x")
    _nothing_written(tmp_path, out)


@pytest.mark.realdata
@pytest.mark.skipif(not (FIXTURES / "mlm_checkpoint").is_dir(), reason="DNABERT-2 fixture absent")
def test_tokenizer_that_does_not_fit_the_model(tmp_path, data):
    genome, tokenizer = data  # a 64-token BPE vocabulary; the checkpoint's embeddings hold 4096
    out = tmp_path / "mlm"
    result = pretrain_cli("--genome", genome, "--model", FIXTURES / "mlm_checkpoint", "--tokenizer", tokenizer,
                          "-o", out, "--device", "cpu", "-q")
    _one_line_error(result, "tokenizer has 64 tokens but the checkpoint's embeddings hold 4096")
    _nothing_written(tmp_path, out)


def test_output_folder_rules(tmp_path, data):
    genome, tokenizer = data
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    _one_line_error(_run(genome, tokenizer, other), "is not a masked-LM directory")
    _one_line_error(_run(genome, tokenizer, other, "--force"), "is not a masked-LM directory")
    assert (other / "notes.txt").read_text() == "mine"

    out = tmp_path / "mlm"
    assert _run(genome, tokenizer, out).exit_code == 0
    _one_line_error(_run(genome, tokenizer, out), "never replaced without --force")
    before = (out / "provenance.json").read_text()
    result = _run(genome, tokenizer, out, "--force", "--seed", 2)
    assert result.exit_code == 0, result.output
    assert (out / "provenance.json").read_text() != before

    inside = out / "genome.fa"
    inside.write_text(genome.read_text())
    _one_line_error(_run(inside, tokenizer, out, "--force"), "lies inside the output folder")


def test_exactly_one_corpus_and_one_start(tmp_path, data):
    genome, tokenizer = data
    result = pretrain_cli("--init", "tiny", "--tokenizer", tokenizer, "-o", tmp_path / "m")
    _one_line_error(result, "exactly one of --genome")
    result = pretrain_cli("--genome", genome, "--tokenizer", tokenizer, "-o", tmp_path / "m")
    _one_line_error(result, "exactly one of --model")
