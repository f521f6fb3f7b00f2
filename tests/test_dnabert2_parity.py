"""The native DNABERT-2 reproduces the original implementation's outputs (../shared fixture)."""

import json
from pathlib import Path

import pytest
import torch

from enhancer_tools.models.dnabert2 import (
    DNABERT2ForMaskedLM,
    DNABERT2ForSequenceClassification,
    DNABERT2Model,
    alibi_bias,
    alibi_slopes,
)

FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"DNABERT-2 fixture not found at {FIXTURE}"),
]
TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def expected(name: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(FIXTURE / name))


def run_backbone(model, reference):
    with torch.no_grad():
        return model(reference["input_ids"], reference["attention_mask"], output_hidden_states=True)


def check_backbone(hidden_states, last_hidden_state, reference):
    real = reference["attention_mask"].bool()
    torch.testing.assert_close(hidden_states[0], reference["embedding_output"], **TOL)
    for i, layer_output in enumerate(hidden_states[1:]):
        torch.testing.assert_close(layer_output[real], reference[f"layer_{i}_output_unpadded"], **TOL)
    torch.testing.assert_close(last_hidden_state[real], reference["last_hidden_state_unpadded"], **TOL)
    torch.testing.assert_close(last_hidden_state, reference["last_hidden_state_padded"], **TOL)
    assert torch.count_nonzero(last_hidden_state[~real]) == 0, "pad positions must be exact zeros"


@pytest.mark.parametrize("subdir", ["", "heads12"], ids=["4heads", "12heads"])
@pytest.mark.parametrize("implementation", ["eager", "sdpa", "flex"])
def test_classifier_reproduces_reference(subdir, implementation):
    reference = expected(f"{subdir}/expected.safetensors" if subdir else "expected.safetensors")
    model = DNABERT2ForSequenceClassification.from_pretrained(FIXTURE / subdir, attention_implementation=implementation)
    assert not model.training and model.config.attention_implementation == implementation
    out = run_backbone(model, reference)
    # last_hidden_state is not part of the classifier output: recompute through the backbone
    with torch.no_grad():
        encoded = model.bert(reference["input_ids"], reference["attention_mask"])
    check_backbone(out.hidden_states, encoded.last_hidden_state, reference)
    torch.testing.assert_close(out.pooler_output, reference["pooled_output"], **TOL)
    torch.testing.assert_close(out.logits, reference["logits"], **TOL)


def test_logits_match_expected_json_summary():
    summary = json.loads((FIXTURE / "expected.json").read_text())["main"]
    model = DNABERT2ForSequenceClassification.from_pretrained(FIXTURE)
    reference = expected("expected.safetensors")
    with torch.no_grad():
        logits = model(reference["input_ids"], reference["attention_mask"]).logits
    torch.testing.assert_close(logits, torch.tensor(summary["logits"]), **TOL)
    float64_reference = torch.tensor(summary["logits_float64_reference"], dtype=torch.float64)
    with torch.no_grad():
        logits64 = model.double()(reference["input_ids"], reference["attention_mask"]).logits
    torch.testing.assert_close(logits64, float64_reference, atol=1e-10, rtol=1e-10)


def test_masked_lm_bin_loads_into_classifier_with_fresh_head(caplog):
    reference = expected("expected.safetensors")
    with caplog.at_level("INFO", logger="enhancer_tools.models.dnabert2_io"):
        model = DNABERT2ForSequenceClassification.from_pretrained(FIXTURE / "mlm_checkpoint")
    assert any("no pooler/classifier weights" in r.getMessage() for r in caplog.records)
    with torch.no_grad():
        out = model.bert(reference["input_ids"], reference["attention_mask"], output_hidden_states=True)
    check_backbone(out.hidden_states, out.last_hidden_state, reference)


def test_masked_lm_bin_loads_as_encoder_and_masked_lm():
    reference = expected("expected.safetensors")
    mlm_reference = expected("mlm_checkpoint/expected_mlm.safetensors")
    real = reference["attention_mask"].bool()
    encoder = DNABERT2Model.from_pretrained(FIXTURE / "mlm_checkpoint")
    with torch.no_grad():
        encoded = encoder(reference["input_ids"], reference["attention_mask"])
    torch.testing.assert_close(encoded.last_hidden_state, reference["last_hidden_state_padded"], **TOL)

    model = DNABERT2ForMaskedLM.from_pretrained(FIXTURE / "mlm_checkpoint")
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    with torch.no_grad():
        logits = model(reference["input_ids"], reference["attention_mask"]).logits[real]  # [N, V]
    selected = mlm_reference["selected_cols"]
    # MLM logits reach |30| (a 64-wide dot product with the embeddings): the hidden states' 1e-5
    # agreement becomes ~3e-5 there, so the absolute tolerance scales with the logits.
    torch.testing.assert_close(
        logits[:, selected], mlm_reference["mlm_logits_unpadded_selected_cols"], atol=1e-4, rtol=1e-5
    )
    assert torch.equal(logits.argmax(-1), mlm_reference["mlm_logits_argmax_unpadded"])


def test_alibi_slopes_for_1_to_16_heads_match_reference():
    slopes = json.loads((FIXTURE / "expected.json").read_text())["alibi_slopes_by_num_heads"]
    assert sorted(map(int, slopes)) == list(range(1, 17))
    for heads, values in slopes.items():
        torch.testing.assert_close(alibi_slopes(int(heads)), torch.tensor(values), atol=0, rtol=0)


def test_alibi_bias_block_matches_reference():
    block = json.loads((FIXTURE / "expected.json").read_text())["alibi_bias_3heads_first4x4"]
    bias = alibi_bias(alibi_slopes(3), 8)[:, :4, :4]
    torch.testing.assert_close(bias, torch.tensor(block), atol=0, rtol=0)
