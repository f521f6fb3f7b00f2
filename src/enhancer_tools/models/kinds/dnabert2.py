"""Kind ``dnabert2``: DNABERT-2 fine-tuned as an enhancer classifier, from a released checkpoint
or from random weights (architecture in ``models.dnabert2``, directories in ``dnabert2_io``).

Two starting points, with their own defaults and Optuna search spaces:

- pretrained (``model`` set): the DNABERT-2 authors' fine-tuning settings (learning rate 3e-5,
  batch 32, dropout 0.1, a few epochs); the search keeps the learning rate log-uniform in
  1e-5..1e-4 around 3e-5.
- from scratch (``architecture`` set): ``SCRATCH_DEFAULTS`` (mean pooling, learning rate 3e-4 with
  warmup and cosine decay, 10 epochs, batch 16, dropout 0.2, both strands); the search spans 1e-4..3e-3.

Token ids are cached per (tokenizer sha256, max_tokens, sequences) in the run's cache folder.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from enhancer_tools.errors import UserError
from enhancer_tools.models.hyperparameters import TrainingSettings
from enhancer_tools.models.kind import ModelExport, ModelKind
from enhancer_tools.models.modeldir import TOKENIZER_JSON, read_json
from enhancer_tools.models.scorer import TorchScorer
from enhancer_tools.models.token_adapter import CachedTokenAdapter, TokenAdapter

# From random weights (chosen on the demo's validation split, benchmarks/results/dnabert2-scratch.md):
# mean pooling (see models.dnabert2.DNABERT2Pooler), a learning rate ten times the pretrained one,
# warmup then cosine decay over 10 epochs, batches of 16, dropout 0.2 and both strands.
SCRATCH_DEFAULTS = {"learning_rate": 3e-4, "pooling": "mean", "scheduler": "cosine", "epochs": 10,
                    "warmup_ratio": 0.1, "dropout": 0.2, "rc_augment": True, "batch_size": 16}
_SHARED_SPACE = {
    "batch_size": [16, 32, 64],
    "warmup_ratio": {"low": 0.0, "high": 0.2},
    "weight_decay": {"low": 1e-4, "high": 1e-1, "log": True},
    "dropout": {"low": 0.0, "high": 0.3},
}
PRETRAINED_SPACE = {"learning_rate": {"low": 1e-5, "high": 1e-4, "log": True}, **_SHARED_SPACE}
SCRATCH_SPACE = {"learning_rate": {"low": 1e-4, "high": 3e-3, "log": True}, **_SHARED_SPACE}


@dataclass(frozen=True)
class DNABERT2Hyperparameters(TrainingSettings):
    """Fine-tuning settings (the pretrained defaults; ``for_scratch`` gives the from-scratch ones)
    and where the weights and tokens come from."""

    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    dropout: float = 0.1  # hidden and classifier dropout
    attention: str = "sdpa"
    gradient_checkpointing: bool = False
    compile: bool = False
    pooling: str | None = None  # cls, mean or cls+mean; None: the checkpoint's own (cls when it has none)
    max_tokens: int = 232  # per sequence, [CLS] and [SEP] included; longer sequences are truncated
    tokenizer: str = ""  # tokenizer.json
    model: str | None = None  # pretrained checkpoint folder; None: random weights of ``architecture``
    architecture: dict | None = None  # DNABERT-2 config.json contents, for training from scratch
    width_bp: int | None = None  # the training windows' width, recorded for score-regions' BED mode

    @classmethod
    def for_scratch(cls, **values) -> "DNABERT2Hyperparameters":
        """The defaults for training from random weights."""
        return cls(**{**SCRATCH_DEFAULTS, **values})


def _build(hp: DNABERT2Hyperparameters):
    from enhancer_tools.models.dnabert2 import (
        DNABERT2Config,
        DNABERT2ForSequenceClassification,
    )

    overrides = {"hidden_dropout_prob": float(hp.dropout), "attention_implementation": hp.attention}
    if hp.pooling:
        overrides["classifier_pooling"] = hp.pooling
    if hp.model:
        model = DNABERT2ForSequenceClassification.from_pretrained(hp.model, **overrides)
    else:
        config = dataclasses.replace(DNABERT2Config.from_dict(hp.architecture), **overrides)
        model = DNABERT2ForSequenceClassification(config)
    model.gradient_checkpointing_enable(bool(hp.gradient_checkpointing))
    if hp.compile:
        model.compile_layers()
    return model


def _adapter(hp: DNABERT2Hyperparameters, cache_dir: str | None):
    adapter = CachedTokenAdapter(hp.tokenizer, int(hp.max_tokens), cache_dir)
    if hp.compile:
        adapter.pad_multiple = 8  # static bucket lengths: compiled graphs are reused
    return adapter


def _export(model, hp: DNABERT2Hyperparameters) -> ModelExport:
    return ModelExport(config=model.config.to_dict(architecture=model.architecture), tensors=model.state_dict(),
                       window={"width": int(hp.width_bp)} if hp.width_bp else None, max_tokens=int(hp.max_tokens),
                       tokenizer=hp.tokenizer,
                       info={"input": "BPE token ids [CLS] seq [SEP], upper-cased, [PAD]-padded",
                             "init": hp.model or "scratch"})


def max_tokens_of(directory: str, info: dict, config: dict) -> int:
    """Token limit: model.json's, else the tokenizer's truncation, else 512 (ALiBi models have no
    position table; 512 is the pretraining length)."""
    if info.get("max_tokens"):
        return int(info["max_tokens"])
    tok = read_json(os.path.join(directory, TOKENIZER_JSON))
    trunc = tok.get("truncation") if isinstance(tok, dict) else None
    if trunc and trunc.get("max_length"):
        return int(trunc["max_length"])
    return int(config.get("max_position_embeddings") or 512)


def _load(directory: str, info: dict, config: dict, device: str, precision: str):
    from enhancer_tools.models.dnabert2 import DNABERT2ForSequenceClassification

    tokenizer = os.path.join(directory, TOKENIZER_JSON)
    if not os.path.exists(tokenizer):
        raise UserError(f"dnabert2 model directory has no {TOKENIZER_JSON}", directory)
    max_tokens = max_tokens_of(directory, info, config)
    model = DNABERT2ForSequenceClassification.from_pretrained(directory)
    return TorchScorer(model, TokenAdapter(tokenizer, max_tokens), device, precision, max_tokens)


KIND = ModelKind(name="dnabert2", hyperparameters=DNABERT2Hyperparameters, load=_load,
                 search_space=lambda hp: dict(PRETRAINED_SPACE if hp.model else SCRATCH_SPACE), build=_build,
                 adapter=_adapter, export=_export, encoding_key=lambda hp: (hp.tokenizer, int(hp.max_tokens)))
