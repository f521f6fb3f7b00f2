"""bpe-train: DNABERT-2 layout, loading with both libraries, determinism, golden output, bad input."""

import difflib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from enhancer_tools.cli.bpe_train import main

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "test-data" / "bpe" / "train.fa"
EXPECTED = ROOT / "test-data" / "bpe" / "expected_tokenizer.json"
REAL = ROOT.parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"
SPECIALS = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4}


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tokenizer and run info from training on the committed FASTA with vocabulary 64."""
    out = tmp_path_factory.mktemp("bpe")
    result = run_cli(TRAIN, "--vocab-size", 64, "-o", out / "tokenizer.json", "--json", out / "run.json",
                     "--threads", 1)
    assert result.exit_code == 0, result.output
    return out / "tokenizer.json", json.loads((out / "run.json").read_text())


def test_golden_tokenizer_is_byte_identical(trained):
    produced = trained[0].read_text()
    expected = EXPECTED.read_text()
    if produced != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), produced.splitlines(True),
                                            "expected_tokenizer.json", "produced", n=2))
        pytest.fail("tokenizer differs from the golden file:\n" + diff[:5000])


def test_dnabert2_layout_specials_then_bases_then_merges(trained):
    data = json.loads(trained[0].read_text())
    vocab = data["model"]["vocab"]
    assert len(vocab) == 64
    assert list(vocab.items())[:9] == [*SPECIALS.items(), ("A", 5), ("C", 6), ("G", 7), ("T", 8)]
    assert all(set(token) <= set("ACGT") for token in list(vocab)[5:])
    assert len(data["model"]["merges"]) == 64 - 9
    assert data["model"]["unk_token"] == "[UNK]" and data["model"]["fuse_unk"] is False
    assert data["normalizer"] is None
    assert [t["content"] for t in data["added_tokens"]] == list(SPECIALS)
    assert all(t["special"] for t in data["added_tokens"])


def test_loads_with_tokenizers_and_round_trips(trained):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(trained[0]))
    seq = "TGACTCAGGAACACGTGTTTTAGATCCAATAAAC"
    encoding = tokenizer.encode(seq)
    assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]"
    assert encoding.ids[0] == 1 and encoding.ids[-1] == 2
    assert "".join(encoding.tokens[1:-1]) == seq
    assert len(encoding.ids) < len(seq) + 2  # merges were used
    pair = tokenizer.encode("ACGT", "GGAA")
    assert pair.tokens[0] == "[CLS]" and pair.tokens.count("[SEP]") == 2
    assert pair.type_ids[-1] == 1 and pair.type_ids[0] == 0


def test_loads_with_transformers_fast_tokenizer(trained):
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(trained[0]), unk_token="[UNK]", cls_token="[CLS]",
                                        sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")
    assert tokenizer.pad_token_id == 3 and tokenizer.mask_token_id == 4
    batch = tokenizer(["ACGTACGTTGACTCA", "ACG"], padding=True)
    assert batch["input_ids"][0][0] == 1 and batch["input_ids"][1][-1] == 3
    assert batch["attention_mask"][1][-1] == 0


@pytest.mark.realdata
@pytest.mark.skipif(not REAL.is_file(), reason=f"real DNABERT-2 tokenizer not found at {REAL}")
def test_everything_but_the_vocabulary_matches_the_real_tokenizer(trained):
    ours = json.loads(trained[0].read_text())
    real = json.loads(REAL.read_text())
    for key in real:
        if key != "model":
            assert ours[key] == real[key], key
    for key in ("type", "unk_token", "fuse_unk", "dropout", "continuing_subword_prefix", "end_of_word_suffix"):
        assert ours["model"][key] == real["model"][key], key
    assert list(ours["model"]["vocab"])[:9] == list(real["model"]["vocab"])[:9]


def test_run_info_holds_training_facts_and_length_stats(trained):
    info = trained[1]
    assert info["bpe"]["training_sequences"] == 40 and info["bpe"]["sampled"] is False
    assert info["tokenizer"]["special_ids"] == SPECIALS
    assert info["tokenizer"]["vocab_size"] == 64
    assert info["token_lengths"]["sequences"] == 40
    assert info["token_lengths"]["non_acgt_bases"] == 16  # 4 records x NNNN; lowercase counts as ACGT
    assert info["counts"]["sequences"] == 40


def test_training_never_merges_across_n_and_alphabet_is_acgt(tmp_path):
    fasta = tmp_path / "n.fa"
    fasta.write_text("".join(f">s{i}\nACNGTNNACNGTNacngt\n" for i in range(20)))
    out = tmp_path / "tok.json"
    assert run_cli(fasta, "--vocab-size", 20, "-o", out, "--threads", 1).exit_code == 0
    vocab = json.loads(out.read_text())["model"]["vocab"]
    assert "N" not in vocab
    assert "AC" in vocab and "GT" in vocab
    assert not any(("CG" in t) or ("TA" in t) for t in vocab)  # pairs only across N


def test_same_seed_same_sample_different_seed_different_sample(tmp_path):
    outputs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / f"{name}.json"
        result = run_cli(TRAIN, "--vocab-size", 64, "--max-sequences", 10, "--seed", seed, "-o", out,
                         "--json", tmp_path / f"{name}.run.json", "--threads", 1)
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
    assert outputs["a"] == outputs["b"]
    assert outputs["a"] != outputs["c"]
    info = json.loads((tmp_path / "a.run.json").read_text())
    assert info["bpe"]["sampled"] is True and info["bpe"]["training_sequences"] == 10
    assert info["token_lengths"]["sequences"] == 40  # statistics cover every sequence


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", (), "empty"),
        ("ACGT\n", (), "not FASTA"),
        (">a\nACGTXZ\n", (), "not IUPAC"),
        (">a\nNNNN\n", (), "no A, C, G or T"),
        (">a\nACGT\n", ("--vocab-size", 8), "smaller than the 5 special tokens plus the 4 bases"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, content, args, message):
    fasta = tmp_path / "in.fa"
    fasta.write_text(content)
    out = tmp_path / "tok.json"
    result = run_cli(fasta, "-o", out, "--threads", 1, *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.fa"]


def test_option_combinations_are_checked(tmp_path):
    assert "needs --tokenizer" in run_cli(TRAIN, "--stats-only").output
    assert "give --output" in run_cli(TRAIN).output
    result = run_cli(TRAIN, "--stats-only", "--tokenizer", EXPECTED, "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and "drop --output" in result.output
    result = run_cli(TRAIN, "--tokenizer", EXPECTED, "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and "for --stats-only" in result.output


def test_refuses_to_overwrite_its_input(tmp_path):
    fasta = tmp_path / "in.fa"
    fasta.write_text(TRAIN.read_text())
    result = run_cli(fasta, "-o", fasta, "--threads", 1)
    assert result.exit_code == 2 and "overwrite the input" in result.output
    assert fasta.read_text() == TRAIN.read_text()
