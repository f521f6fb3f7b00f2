"""A tiny DNABERT-2 the project makes itself survives save_pretrained + from_pretrained."""

import json

import torch

from enhancer_tools import __version__
from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForMaskedLM, DNABERT2ForSequenceClassification

REAL_CONFIG_KEYS = {
    "alibi_starting_size", "attention_probs_dropout_prob", "classifier_dropout", "hidden_act",
    "hidden_dropout_prob", "hidden_size", "initializer_range", "intermediate_size", "layer_norm_eps",
    "max_position_embeddings", "num_attention_heads", "num_hidden_layers", "position_embedding_type",
    "torch_dtype", "type_vocab_size", "vocab_size",
}  # fmt: skip


def batch():
    ids = torch.tensor([[1, 5, 9, 17, 2], [1, 30, 2, 3, 3]])
    return ids, (ids != 3).long()


def test_classifier_roundtrip(tmp_path):
    torch.manual_seed(3)
    config = DNABERT2Config.tiny(vocab_size=32, id2label={0: "background", 1: "enhancer"})
    model = DNABERT2ForSequenceClassification(config).eval()
    tokenizer = tmp_path / "tok.json"
    tokenizer.write_text('{"placeholder": true}')
    model.save_pretrained(tmp_path / "out", provenance={"train_sha256": "abc"}, tokenizer_json=tokenizer)

    written = json.loads((tmp_path / "out" / "config.json").read_text())
    assert REAL_CONFIG_KEYS <= set(written)
    assert written["architectures"] == ["BertForSequenceClassification"]
    assert written["id2label"] == {"0": "background", "1": "enhancer"}
    assert "attention_implementation" not in written
    provenance = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert provenance["version"] == __version__ and provenance["train_sha256"] == "abc"
    assert (tmp_path / "out" / "tokenizer.json").read_text() == tokenizer.read_text()

    loaded = DNABERT2ForSequenceClassification.from_pretrained(tmp_path / "out")
    assert loaded.config.id2label == config.id2label
    with torch.no_grad():
        assert torch.equal(loaded(*batch()).logits, model(*batch()).logits)


def test_masked_lm_roundtrip_stores_tied_decoder_once(tmp_path):
    from safetensors.torch import load_file

    torch.manual_seed(4)
    model = DNABERT2ForMaskedLM(DNABERT2Config.tiny(vocab_size=32)).eval()
    model.save_pretrained(tmp_path / "mlm")
    stored = load_file(str(tmp_path / "mlm" / "model.safetensors"))
    assert "cls.predictions.decoder.weight" not in stored and "cls.predictions.decoder.bias" in stored
    loaded = DNABERT2ForMaskedLM.from_pretrained(tmp_path / "mlm")
    assert loaded.cls.predictions.decoder.weight is loaded.bert.embeddings.word_embeddings.weight
    with torch.no_grad():
        assert torch.equal(loaded(*batch()).logits, model(*batch()).logits)


def test_saved_config_reloads_with_unknown_keys_kept(tmp_path):
    model = DNABERT2ForSequenceClassification(DNABERT2Config.tiny(vocab_size=32))
    model.save_pretrained(tmp_path / "a")
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "bert_layers.BertModel"}
    (tmp_path / "a" / "config.json").write_text(json.dumps(config))
    DNABERT2ForSequenceClassification.from_pretrained(tmp_path / "a").save_pretrained(tmp_path / "b")
    assert json.loads((tmp_path / "b" / "config.json").read_text())["auto_map"] == config["auto_map"]
