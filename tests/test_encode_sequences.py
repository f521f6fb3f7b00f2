"""The shared encoding helper: upper-casing, [CLS] seq [SEP], truncation keeping [SEP], N -> [UNK],
and clean errors for unusable tokenizer files."""

import json
from pathlib import Path

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.tokenize.encode import encode_sequences, load_tokenizer, tokenizer_info

ROOT = Path(__file__).resolve().parents[1]
OURS = ROOT / "test-data" / "bpe" / "expected_tokenizer.json"
REAL = ROOT.parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"
SEQ = "TGACTCAGGAACACGTGTTTTAGATCCAATAAACGGCAT"


@pytest.fixture(scope="module")
def ours():
    return load_tokenizer(OURS)


def test_frames_with_cls_and_sep_without_padding(ours):
    ids = encode_sequences(ours, [SEQ, "ACG"], max_length=512)
    assert all(row[0] == 1 and row[-1] == 2 for row in ids)
    assert len(ids[0]) != len(ids[1]) and 3 not in ids[1]
    assert ids[0][1:-1] == ours.encode(SEQ, add_special_tokens=False).ids


def test_truncation_keeps_sep_and_the_first_tokens(ours):
    full = encode_sequences(ours, [SEQ], max_length=512)[0]
    cut = encode_sequences(ours, [SEQ], max_length=6)[0]
    assert len(full) > 6
    assert cut == full[:5] + [2]
    assert encode_sequences(ours, [SEQ], max_length=3)[0] == [1, full[1], 2]
    with pytest.raises(UserError, match="at least 3"):
        encode_sequences(ours, [SEQ], max_length=2)


def test_lowercase_is_encoded_like_uppercase(ours):
    assert encode_sequences(ours, [SEQ.lower()], 512) == encode_sequences(ours, [SEQ], 512)
    raw = ours.encode("acgt", add_special_tokens=False).ids
    assert raw == [0, 0, 0, 0]  # no normaliser: the raw tokenizer maps lowercase to [UNK]


def test_each_n_is_one_unk_and_never_merged(ours):
    ids = encode_sequences(ours, ["AANNAA", "ACGTRYACGT"], 512)
    assert ids[0].count(0) == 2 and ids[1].count(0) == 2


@pytest.mark.realdata
@pytest.mark.skipif(not REAL.is_file(), reason=f"real DNABERT-2 tokenizer not found at {REAL}")
def test_real_dnabert2_tokenizer_n_and_lowercase():
    real = load_tokenizer(REAL)
    assert real.encode("NNN", add_special_tokens=False).ids == [0, 0, 0]
    assert real.encode("acgt", add_special_tokens=False).ids == [0, 0, 0, 0]
    assert encode_sequences(real, ["acgtnacgt"], 64) == encode_sequences(real, ["ACGTNACGT"], 64)
    assert encode_sequences(real, ["ACGTNACGT"], 64)[0].count(0) == 1


def test_tokenizer_info(ours):
    info = tokenizer_info(OURS)
    assert info["vocab_size"] == 64 and info["merges"] == 55 and info["model"] == "BPE"
    assert info["special_ids"] == {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4}
    assert len(info["sha256"]) == 64 and info["longest_token_bp"] >= 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not a Hugging Face tokenizer.json"),
        ('{"version": "1.0"}', "not a Hugging Face tokenizer.json"),
        (b"\xff\xfe\x00", "cannot read"),
    ],
)
def test_unusable_tokenizer_file_is_a_user_error(tmp_path, content, message):
    path = tmp_path / "tokenizer.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_tokenizer(path)


def test_tokenizer_without_dnabert2_specials_is_a_user_error(tmp_path):
    data = json.loads(OURS.read_text())
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] != "[PAD]"]
    data["model"]["vocab"] = {k: v for k, v in data["model"]["vocab"].items() if k != "[PAD]"}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"no \[PAD\]"):
        load_tokenizer(path)
