"""Loading DNABERT-2 directories: pickles are refused, key and shape problems are clear errors."""

import json
import logging
from pathlib import Path

import pytest
import torch

from enhancer_tools.errors import UserError
from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForMaskedLM,
    DNABERT2ForSequenceClassification,
    DNABERT2Model,
)
from enhancer_tools.models.dnabert2_io import check_tokenizer_fits

FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"


def tiny_config(**overrides):
    return DNABERT2Config.tiny(vocab_size=32, **overrides)


def write_bin_checkpoint(directory: Path, model) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(model.config.to_dict(model.architecture)))
    torch.save(model.state_dict(), directory / "pytorch_model.bin")
    return directory


class _RunsCode:
    """Unpickling this calls Path.touch(marker): what a hostile checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    model = DNABERT2ForSequenceClassification(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "model", model)
    marker = tmp_path / "code-was-run"
    state = dict(model.state_dict())
    state["payload"] = _RunsCode(marker)
    torch.save(state, directory / "pytorch_model.bin")
    with pytest.raises(UserError, match="refused to load.*Unsupported global") as info:
        DNABERT2ForSequenceClassification.from_pretrained(directory)
    assert not marker.exists()
    assert "pytorch_model.bin" in str(info.value)


def test_plain_bin_state_dict_loads(tmp_path):
    torch.manual_seed(0)
    model = DNABERT2ForSequenceClassification(tiny_config()).eval()
    loaded = DNABERT2ForSequenceClassification.from_pretrained(write_bin_checkpoint(tmp_path / "m", model))
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_masked_lm_checkpoint_gives_fresh_classifier_and_log(tmp_path, caplog):
    torch.manual_seed(0)
    mlm = DNABERT2ForMaskedLM(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "mlm", mlm)
    with caplog.at_level(logging.INFO, logger="enhancer_tools.models.dnabert2_io"):
        classifier = DNABERT2ForSequenceClassification.from_pretrained(directory)
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "no pooler/classifier weights" in messages and "cls.predictions" in messages
    assert torch.equal(classifier.bert.embeddings.word_embeddings.weight, mlm.bert.embeddings.word_embeddings.weight)
    assert classifier.classifier.weight.shape == (2, 64)


def test_missing_weights_are_named(tmp_path):
    model = DNABERT2ForSequenceClassification(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "m", model)
    state = model.state_dict()
    del state["bert.encoder.layer.1.mlp.wo.weight"]
    torch.save(state, directory / "pytorch_model.bin")
    with pytest.raises(UserError, match=r"missing 1 weight\(s\): bert.encoder.layer.1.mlp.wo.weight"):
        DNABERT2ForSequenceClassification.from_pretrained(directory)


def test_unexpected_weights_are_named(tmp_path):
    model = DNABERT2ForSequenceClassification(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "m", model)
    state = model.state_dict()
    state["bert.encoder.layer.2.mlp.wo.weight"] = torch.zeros(64, 128)
    torch.save(state, directory / "pytorch_model.bin")
    with pytest.raises(UserError, match=r"unexpected weight\(s\): bert.encoder.layer.2.mlp.wo.weight"):
        DNABERT2ForSequenceClassification.from_pretrained(directory)


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    model = DNABERT2ForSequenceClassification(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "m", model)
    config = json.loads((directory / "config.json").read_text())
    config["vocab_size"] = 40
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"bert.embeddings.word_embeddings.weight \(32, 64\) vs model \(40, 64\)"):
        DNABERT2ForSequenceClassification.from_pretrained(directory)


def test_directory_problems_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        DNABERT2Model.from_pretrained(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no config.json"):
        DNABERT2Model.from_pretrained(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        DNABERT2Model.from_pretrained(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text(json.dumps(tiny_config().to_dict()))
    with pytest.raises(UserError, match="neither model.safetensors nor pytorch_model.bin"):
        DNABERT2Model.from_pretrained(tmp_path / "empty")
    (tmp_path / "empty" / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(UserError, match="cannot read safetensors"):
        DNABERT2Model.from_pretrained(tmp_path / "empty")


def train_tokenizer(path: Path, vocab_size: int, corpus: list[str]) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"], show_progress=False
    )
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.save(str(path))
    return path


def test_tokenizer_must_fit_the_embeddings(tmp_path):
    corpus = ["ACGTACGTTTGACCA" * 4, "GGGATTACAGATTACA" * 3, "TTTTAAAACCCCGGGG" * 2]
    small = train_tokenizer(tmp_path / "small.json", 20, corpus)
    large = train_tokenizer(tmp_path / "large.json", 40, corpus)
    check_tokenizer_fits(small, tiny_config())
    with pytest.raises(UserError, match="embeddings hold 32"):
        check_tokenizer_fits(large, tiny_config())


def test_tokenizer_must_equal_the_checkpoints(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    train_tokenizer(checkpoint / "tokenizer.json", 20, ["ACGTACGTTTGACCA" * 4, "GGGATTACA" * 3])
    own = train_tokenizer(tmp_path / "own.json", 20, ["TTTTTTTTGGGGGGGCA" * 4, "CACACACATATATA" * 3])
    check_tokenizer_fits(checkpoint / "tokenizer.json", tiny_config(), checkpoint_dir=checkpoint)
    with pytest.raises(UserError, match="differs from the checkpoint's"):
        check_tokenizer_fits(own, tiny_config(), checkpoint_dir=checkpoint)


@pytest.mark.realdata
@pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"DNABERT-2 fixture not found at {FIXTURE}")
def test_real_tokenizer_fits_the_real_config():
    config = DNABERT2Config.from_dict(json.loads((FIXTURE / "real_117M_config.json").read_text()))
    assert (config.hidden_size, config.num_attention_heads, config.num_hidden_layers) == (768, 12, 12)
    check_tokenizer_fits(FIXTURE / "tokenizer.json", config, checkpoint_dir=FIXTURE)
    with pytest.raises(UserError, match="ids up to 4095"):
        check_tokenizer_fits(FIXTURE / "tokenizer.json", DNABERT2Config.tiny(vocab_size=1000))


def test_config_overrides_apply_and_unknown_ones_are_refused(tmp_path):
    model = DNABERT2ForSequenceClassification(tiny_config())
    directory = write_bin_checkpoint(tmp_path / "m", model)
    loaded = DNABERT2ForSequenceClassification.from_pretrained(
        directory, attention_implementation="eager", hidden_dropout_prob=0.2
    )
    assert loaded.config.attention_implementation == "eager" and loaded.config.hidden_dropout_prob == 0.2
    with pytest.raises(UserError, match="not a DNABERT2Config field"):
        DNABERT2ForSequenceClassification.from_pretrained(directory, hidden_layers=3)
