"""Token-length statistics: a hand-computed example, nearest-rank quantiles, the max_length
rule, parallel counting, and --stats-only with our and the real DNABERT-2 tokenizer."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from enhancer_tools.cli.bpe_train import main
from enhancer_tools.errors import UserError
from enhancer_tools.tokenize.lengths import count_token_lengths, summarize, token_length_stats

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "test-data" / "bpe" / "train.fa"
OURS = ROOT / "test-data" / "bpe" / "expected_tokenizer.json"
REAL = ROOT.parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"


@pytest.fixture
def ac_tokenizer(tmp_path):
    """Specials, A C G T, and the single merge A+C."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "A", "C", "G", "T", "AC"])}
    tokenizer = Tokenizer(models.BPE(vocab, [("A", "C")], unk_token="[UNK]", fuse_unk=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "ac.json"
    tokenizer.save(str(path))
    return path


def test_hand_computed_example(ac_tokenizer):
    # ACAC -> AC AC (2); AAAA -> 4; ACGT -> AC G T (3); acgN -> AC G [UNK] (3)
    stats = token_length_stats(ac_tokenizer, ["ACAC", "AAAA", "ACGT", "acgN"], max_length=5)
    per = stats["tokens_per_sequence"]
    assert (per["min"], per["median"], per["p95"], per["p99"], per["p99_9"], per["max"]) == (2, 3, 4, 4, 4, 4)
    assert per["mean"] == 3.0
    assert (stats["sequences"], stats["bases"], stats["tokens"], stats["non_acgt_bases"]) == (4, 16, 12, 1)
    assert stats["bp_per_token"] == round(16 / 12, 4) and stats["tokens_per_kb"] == 750.0
    assert stats["recommended_max_length"] == 8  # 4 + [CLS] + [SEP] = 6 -> 8
    assert (stats["max_length"], stats["truncated_sequences"], stats["truncated_fraction"]) == (5, 1, 0.25)
    assert stats["histogram"] == {"bin_width": 1, "bin_start": [2, 3, 4], "count": [1, 2, 1]}


def test_quantiles_are_numpy_inverted_cdf():
    rng = np.random.default_rng(7)
    lengths = rng.integers(150, 260, size=9973)
    stats = summarize(np.bincount(lengths), bases=9973 * 1000, non_acgt=0)
    per = stats["tokens_per_sequence"]
    for name, q in (("median", 50), ("p95", 95), ("p99", 99), ("p99_9", 99.9)):
        assert per[name] == int(np.percentile(lengths, q, method="inverted_cdf")), name
    assert per["min"] == lengths.min() and per["max"] == lengths.max()
    assert sum(stats["histogram"]["count"]) == 9973


@pytest.mark.parametrize(("p99_9", "recommended"), [(198, 200), (199, 208), (206, 208), (230, 232), (1, 8)])
def test_recommended_max_length_is_next_multiple_of_8_after_specials(p99_9, recommended):
    histogram = np.zeros(p99_9 + 1, dtype=np.int64)
    histogram[p99_9] = 10
    stats = summarize(histogram, bases=10, non_acgt=0)
    assert stats["recommended_max_length"] == recommended
    assert stats["max_length"] == recommended and stats["truncated_sequences"] == 0


def test_p99_9_ignores_a_rare_outlier_but_truncation_counts_it():
    histogram = np.zeros(400, dtype=np.int64)
    histogram[200] = 9999
    histogram[399] = 1  # 1 in 10,000: above p99.9
    stats = summarize(histogram, bases=10_000_000, non_acgt=0, max_length=232)
    assert stats["tokens_per_sequence"]["p99_9"] == 200 and stats["tokens_per_sequence"]["max"] == 399
    assert stats["recommended_max_length"] == 208
    assert stats["truncated_sequences"] == 1 and stats["truncated_fraction"] == 0.0001


def test_wide_histograms_have_at_most_100_bins():
    histogram = np.zeros(5001, dtype=np.int64)
    histogram[[10, 2500, 5000]] = 1
    bins = summarize(histogram, bases=100, non_acgt=0)["histogram"]
    assert len(bins["bin_start"]) == 100 and bins["bin_width"] == 50 and sum(bins["count"]) == 3
    assert bins["bin_start"][0] == 10 and bins["count"][0] == 1 and bins["count"][-1] == 1


def test_two_worker_processes_count_the_same_as_one():
    seqs = [line.strip() for line in TRAIN.read_text().splitlines() if not line.startswith(">")] * 5
    text = OURS.read_text()
    one = count_token_lengths(text, seqs, workers=1, chunk_size=7)
    two = count_token_lengths(text, seqs, workers=2, chunk_size=7)
    assert np.array_equal(np.trim_zeros(one[0], "b"), np.trim_zeros(two[0], "b")) and one[1:] == two[1:]


def test_max_length_below_3_is_a_user_error(ac_tokenizer):
    with pytest.raises(UserError, match="at least 3"):
        token_length_stats(ac_tokenizer, ["ACGT"], max_length=2)


def test_stats_only_cli_writes_stats_into_run_info(tmp_path):
    result = CliRunner().invoke(main, ["--stats-only", "--tokenizer", str(OURS), str(TRAIN), "--max-length", "40",
                                       "--json", str(tmp_path / "stats.json"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "stats.json").read_text())
    assert info["token_lengths"]["max_length"] == 40 and info["token_lengths"]["max_length_given"] is True
    histogram = info["token_lengths"]["histogram"]
    longer = sum(c for start, c in zip(histogram["bin_start"], histogram["count"]) if start > 38)
    assert 0 < info["token_lengths"]["truncated_sequences"] == longer < 40
    assert info["tokenizer"]["sha256"] == info["inputs"]["tokenizer"]["sha256"]
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]


def test_stats_only_with_an_unreadable_tokenizer_is_exit_2(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{}")
    result = CliRunner().invoke(main, ["--stats-only", "--tokenizer", str(bad), str(TRAIN)])
    assert result.exit_code == 2 and "not a Hugging Face tokenizer.json" in result.output


@pytest.mark.realdata
@pytest.mark.skipif(not REAL.is_file(), reason=f"real DNABERT-2 tokenizer not found at {REAL}")
def test_stats_only_with_the_real_dnabert2_tokenizer(tmp_path):
    result = CliRunner().invoke(main, ["--stats-only", "--tokenizer", str(REAL), str(TRAIN),
                                       "--json", str(tmp_path / "stats.json"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "stats.json").read_text())["token_lengths"]
    assert stats["sequences"] == 40 and stats["non_acgt_bases"] == 16
    assert 3.0 < stats["bp_per_token"] < 8.0
    assert stats["recommended_max_length"] % 8 == 0


def test_workers_reading_the_file_count_the_same_as_the_stream(tmp_path):
    from enhancer_tools.tokenize.lengths import count_token_lengths_in_file

    seqs = [line.strip() for line in TRAIN.read_text().splitlines() if not line.startswith(">")] * 3
    seqs[1] = seqs[1].lower()
    fasta = tmp_path / "one_line.fa"
    fasta.write_text("".join(f">s{i} label=1\n{s}\n" for i, s in enumerate(seqs)))
    text = OURS.read_text()
    streamed = count_token_lengths(text, seqs, workers=1, chunk_size=7)
    read = count_token_lengths_in_file(text, fasta, workers=2, chunk_size=7, range_bytes=500)
    assert np.array_equal(np.trim_zeros(streamed[0], "b"), np.trim_zeros(read[0], "b")) and streamed[1:] == read[1:]
    wrapped = tmp_path / "wrapped.fa"
    wrapped.write_text("".join(f">s{i}\n{s[:10]}\n{s[10:]}\n" for i, s in enumerate(seqs)))
    assert count_token_lengths_in_file(text, wrapped, workers=1) is None
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nACGT\n>b\nACXT\n")
    assert count_token_lengths_in_file(text, bad, workers=1) is None


def test_stats_only_names_a_bad_letter_whichever_reader_runs(tmp_path):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\nACGT\n>b\nACGTXZ\n")
    result = CliRunner().invoke(main, ["--stats-only", "--tokenizer", str(OURS), str(fasta), "--threads", "1"])
    assert result.exit_code == 2 and "not IUPAC" in result.output and ":4" in result.output, result.output
