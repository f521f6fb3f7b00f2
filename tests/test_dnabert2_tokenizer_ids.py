"""The real DNABERT-2 tokenizer gives exactly the fixture's token ids (tokenizers and transformers)."""

import json
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"DNABERT-2 fixture not found at {FIXTURE}"),
]


@pytest.fixture(scope="module")
def inputs():
    return json.loads((FIXTURE / "inputs.json").read_text())


def test_tokenizers_library_ids(inputs):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(FIXTURE / "tokenizer.json"))
    for sequence, ids, tokens in zip(inputs["sequences"], inputs["token_ids"], inputs["tokens"]):
        encoding = tokenizer.encode(sequence)
        assert encoding.ids == ids
        assert encoding.tokens == tokens
    for case in inputs["tokenizer_only_cases"]:
        assert tokenizer.encode(case["text"]).ids == case["ids"], case["text"]
    pair = inputs["pair_example"]
    encoding = tokenizer.encode(pair["text_a"], pair["text_b"])
    assert encoding.ids == pair["ids"]
    assert encoding.type_ids == pair["type_ids"]


def test_transformers_fast_tokenizer_batch(inputs):
    from transformers import PreTrainedTokenizerFast

    special_tokens = json.loads((FIXTURE / "tokenizer_config.json").read_text())
    special_tokens.pop("tokenizer_class")
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(FIXTURE / "tokenizer.json"), **special_tokens)
    assert tokenizer.pad_token_id == inputs["pad_token_id"]
    batch = tokenizer(inputs["sequences"], padding=True)
    assert batch["input_ids"] == inputs["batch_input_ids"]
    assert batch["attention_mask"] == inputs["batch_attention_mask"]
    truncation = inputs["truncation_example"]
    truncated = tokenizer(truncation["text"], max_length=truncation["max_length"], truncation=True)
    assert truncated["input_ids"] == truncation["ids"]
