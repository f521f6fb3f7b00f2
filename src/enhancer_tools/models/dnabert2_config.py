"""The DNABERT-2 configuration: the keys of the real ``config.json``, checked, with the tiny preset
for tests and the demo. No torch here, so reading a config is cheap (``models.dnabert2`` builds
the model from it; ``models.dnabert2_io`` reads and writes it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from enhancer_tools.errors import UserError

ATTENTION_IMPLEMENTATIONS = ("eager", "sdpa", "flex")
# What the classification head reads: the [CLS] state (the released DNABERT-2 head), the mean of
# the real tokens' states, or the average of both (the same size, so a checkpoint's pooler fits).
POOLINGS = ("cls", "mean", "cls+mean")


def check_attention_implementation(implementation: str, attention_dropout: float) -> None:
    """UserError unless ``implementation`` exists and supports the attention dropout asked for."""
    if implementation not in ATTENTION_IMPLEMENTATIONS:
        raise UserError(
            f"attention implementation {implementation!r} is not one of {', '.join(ATTENTION_IMPLEMENTATIONS)}"
        )
    if implementation == "flex" and attention_dropout > 0:
        raise UserError("the flex attention implementation does not support attention_probs_dropout_prob > 0")


_REQUIRED_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


@dataclass
class DNABERT2Config:
    """Architecture of a DNABERT-2 model; the fields are the keys of the real ``config.json``.

    ``attention_implementation`` ("sdpa", "eager" or "flex") is a run-time choice and is not saved.
    Keys of a read ``config.json`` that the model does not use are kept in ``extra`` and
    written back unchanged.
    """

    vocab_size: int = 4096
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.0
    classifier_dropout: float | None = None
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    alibi_starting_size: int = 512
    max_position_embeddings: int = 512
    num_labels: int = 2
    id2label: dict[int, str] | None = None
    classifier_pooling: str = "cls"
    attention_implementation: str = "sdpa"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _REQUIRED_KEYS + ("type_vocab_size", "num_labels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"config: {name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise UserError(
                f"config: hidden_size {self.hidden_size} is not a multiple of "
                f"num_attention_heads {self.num_attention_heads}"
            )
        if self.hidden_act not in ("gelu", "gelu_python"):
            raise UserError(f"config: hidden_act {self.hidden_act!r} is not supported (DNABERT-2 uses 'gelu')")
        check_attention_implementation(self.attention_implementation, self.attention_probs_dropout_prob)
        if self.classifier_pooling not in POOLINGS:
            raise UserError(f"config: classifier_pooling {self.classifier_pooling!r} is not one of {', '.join(POOLINGS)}")
        if self.id2label is not None:
            self.id2label = {int(k): str(v) for k, v in self.id2label.items()}
            if sorted(self.id2label) != list(range(len(self.id2label))):
                raise UserError(f"config: id2label keys must be 0..n-1, got {sorted(self.id2label)}")
            self.num_labels = len(self.id2label)

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def tiny(cls, vocab_size: int = 4096, **overrides: Any) -> "DNABERT2Config":
        """A small configuration for tests and the demo (hidden 64, 2 layers, 1 head). One head
        gets ALiBi's smallest slope (1/256), so [CLS] sees the middle of a 1 kb window from the
        start; with 4 heads, trained from scratch, it sat on the loss plateau for several epochs."""
        values: dict[str, Any] = dict(
            vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=1, intermediate_size=128
        )
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DNABERT2Config":
        """Build from the contents of a DNABERT-2 ``config.json``; UserError when it does not fit."""
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise UserError(f"config: missing key(s) {', '.join(missing)}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "attention_implementation", "id2label"}
        values = {key: data[key] for key in known if key in data}
        extra = {key: value for key, value in data.items() if key not in known and key not in ("id2label", "label2id")}
        id2label = data.get("id2label")
        if id2label is not None and not isinstance(id2label, dict):
            raise UserError("config: id2label must be an object")
        try:
            return cls(**values, id2label=id2label, extra=extra)
        except (TypeError, ValueError) as exc:
            raise UserError(f"config: {exc}") from None

    def to_dict(self, architecture: str | None = None) -> dict[str, Any]:
        """The ``config.json`` contents in the real DNABERT-2 key layout."""
        data: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name not in ("extra", "attention_implementation", "id2label", "num_labels", "classifier_pooling"):
                data[f.name] = getattr(self, f.name)
        if self.classifier_pooling != "cls":  # absent means [CLS], as in the released checkpoints
            data["classifier_pooling"] = self.classifier_pooling
        id2label = self.id2label or {i: f"LABEL_{i}" for i in range(self.num_labels)}
        data["id2label"] = {str(i): label for i, label in sorted(id2label.items())}
        data["label2id"] = {label: i for i, label in sorted(id2label.items())}
        if architecture is not None:
            data["architectures"] = [architecture]
        data.setdefault("position_embedding_type", "absolute")
        data.setdefault("torch_dtype", "float32")
        return dict(sorted(data.items()))
