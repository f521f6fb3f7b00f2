"""Reading and writing DNABERT-2 model directories in the original Hugging Face key layout.

A directory holds ``config.json`` and ``model.safetensors`` (preferred) or ``pytorch_model.bin``
(read with ``torch.load(weights_only=True)`` only: a pickle that would run code is refused).
Keys are ``bert.*`` (encoder), ``classifier.*`` (sequence classification) and
``cls.predictions.*`` (masked LM, decoder weight tied to the word embeddings).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import re
from typing import Any

import torch

from enhancer_tools.errors import UserError
from enhancer_tools.models.dnabert2_config import DNABERT2Config
from enhancer_tools.models.modeldir import CONFIG_JSON, PICKLE_WEIGHTS, TOKENIZER_JSON, WEIGHTS, save_model_dir
from enhancer_tools.models.modeldir import provenance as provenance_record

log = logging.getLogger(__name__)


TIED_DECODER_KEY = "cls.predictions.decoder.weight"
WORD_EMBEDDINGS_KEY = "bert.embeddings.word_embeddings.weight"
# Non-persistent buffers some exporters write anyway; they carry no weights.
_IGNORED_KEYS = ("bert.embeddings.token_type_ids", "bert.embeddings.position_ids")
_MAX_KEYS_IN_MESSAGE = 8


def read_config(directory: str | os.PathLike, **overrides: Any) -> DNABERT2Config:
    """Read ``config.json`` of a model directory; ``overrides`` (DNABERT2Config fields, e.g.
    ``attention_implementation="eager"`` or ``hidden_dropout_prob=0.2``) replace its values."""
    path = os.path.join(directory, CONFIG_JSON)
    if not os.path.isfile(path):
        raise UserError(f"model directory has no {CONFIG_JSON}", directory)
    return read_config_file(path, **overrides)


def read_config_file(path: str | os.PathLike, **overrides: Any) -> DNABERT2Config:
    """Read a DNABERT-2 ``config.json`` file; ``overrides`` as in ``read_config``."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"not valid JSON: {exc}", path) from None
    if not isinstance(data, dict):
        raise UserError("expected a DNABERT-2 config.json object", path)
    try:
        config = DNABERT2Config.from_dict(data)
    except UserError as exc:
        raise UserError(exc.message, path) from None
    try:
        return dataclasses.replace(config, **overrides)
    except TypeError as exc:
        raise UserError(f"not a DNABERT2Config field: {exc}") from None


def read_state_dict(directory: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of ``model.safetensors``, else of ``pytorch_model.bin`` (weights-only unpickling)."""
    safetensors_path = os.path.join(directory, WEIGHTS)
    pickle_path = os.path.join(directory, PICKLE_WEIGHTS)
    if os.path.isfile(safetensors_path):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(safetensors_path)
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"cannot read safetensors weights: {exc}", safetensors_path) from None
    if os.path.isfile(pickle_path):
        try:
            state = torch.load(pickle_path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
            # torch's message is many lines of advice (including how to load unsafely): keep the reason
            reason = re.search(r"Unsupported [^.\n]*", str(exc))
            why = reason.group(0) if reason else type(exc).__name__
            raise UserError(
                "refused to load: not a plain tensor state dict readable with weights_only=True "
                f"(a pickle that would run code, or a damaged file): {why}",
                pickle_path,
            ) from None
        if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
        ):
            raise UserError("expected a state dict of named tensors", pickle_path)
        return state
    raise UserError(f"model directory has neither {WEIGHTS} nor {PICKLE_WEIGHTS}", directory)


def _name_keys(keys, separator: str = ", ", limit: int = _MAX_KEYS_IN_MESSAGE) -> str:
    keys = sorted(keys)
    shown = separator.join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _normalise_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add the ``bert.`` prefix to a bare encoder state dict (``embeddings.*``, ``encoder.*``)."""
    if any(key.startswith("bert.") for key in state):
        return state
    bare = ("embeddings.", "encoder.", "pooler.")
    return {("bert." + key if key.startswith(bare) else key): value for key, value in state.items()}


def _key_prefix(model) -> str:
    """"bert." for the bare encoder (whose own keys lack it), "" for the classes that hold one."""
    return "" if hasattr(model, "bert") else "bert."


def _fit_checkpoint(model, state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """Match checkpoint keys to ``model``; fresh heads where the checkpoint has none (logged)."""
    state = {key: value for key, value in _normalise_keys(state).items() if key not in _IGNORED_KEYS}
    prefix = _key_prefix(model)
    expected = {prefix + key: value for key, value in model.state_dict().items()}
    tied = TIED_DECODER_KEY in expected

    if TIED_DECODER_KEY in state and WORD_EMBEDDINGS_KEY in state:
        if not torch.equal(state[TIED_DECODER_KEY], state[WORD_EMBEDDINGS_KEY]):
            raise UserError(
                f"{TIED_DECODER_KEY} differs from {WORD_EMBEDDINGS_KEY}; only tied decoders are supported", source
            )
        state = {key: value for key, value in state.items() if key != TIED_DECODER_KEY}
    if tied:
        expected = {key: value for key, value in expected.items() if key != TIED_DECODER_KEY}

    dropped = {key for key in state if key not in expected and key.startswith(("cls.", "classifier.", "bert.pooler."))}
    if dropped:
        log.info("%s: not used by %s, ignored: %s", source, type(model).__name__, _name_keys(dropped))
        state = {key: value for key, value in state.items() if key not in dropped}

    missing = set(expected) - set(state)
    fresh_head = {key for key in missing if key.startswith(("bert.pooler.", "classifier."))}
    if fresh_head:
        if any(key.startswith("classifier.") for key in state):
            raise UserError(f"checkpoint has a classifier but is missing {_name_keys(fresh_head)}", source)
        log.info(
            "%s has no pooler/classifier weights (a masked-LM or encoder-only checkpoint): "
            "the %s starts from random weights",
            source,
            "pooler and classifier" if any(key.startswith("classifier.") for key in fresh_head) else "pooler",
        )
        missing -= fresh_head
    if missing:
        raise UserError(f"checkpoint is missing {len(missing)} weight(s): {_name_keys(missing)}", source)
    unexpected = set(state) - set(expected)
    if unexpected:
        raise UserError(f"checkpoint has {len(unexpected)} unexpected weight(s): {_name_keys(unexpected)}", source)
    mismatched = [
        f"{key} {tuple(state[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in sorted(state)
        if tuple(state[key].shape) != tuple(expected[key].shape)
    ]
    if mismatched:
        raise UserError(f"checkpoint shapes do not fit config.json: {_name_keys(mismatched, '; ')}", source)
    return {key[len(prefix):]: value for key, value in state.items()}


def load_pretrained(cls: type, directory: str | os.PathLike, **config_overrides: Any):
    """Build ``cls`` from a model directory, in float32 on the CPU, in eval mode.

    A masked-LM or encoder-only checkpoint loads into ``DNABERT2ForSequenceClassification``
    with a fresh random pooler and classifier (logged at INFO). Heads the target class does not
    have are ignored (logged). Missing or unexpected weights and shape mismatches are UserErrors.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise UserError("model directory does not exist", directory)
    config = read_config(directory, **config_overrides)
    state = read_state_dict(directory)
    model = cls(config)
    fitted = _fit_checkpoint(model, state, directory)
    fitted = {key: value.to(torch.float32) if value.is_floating_point() else value for key, value in fitted.items()}
    model.load_state_dict(fitted, strict=False)  # absent by design: fresh heads, the tied decoder
    model.eval()
    return model


def _tokenizer_vocab(path: str | os.PathLike) -> dict[str, int]:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(os.fspath(path)).get_vocab(with_added_tokens=True)
    except Exception as exc:  # tokenizers raises a plain Exception for unreadable files
        raise UserError(f"cannot read tokenizer: {str(exc).splitlines()[0] if str(exc) else exc!r}", path) from None


def check_tokenizer_fits(
    tokenizer_json: str | os.PathLike, config: DNABERT2Config, checkpoint_dir: str | os.PathLike | None = None
) -> None:
    """UserError unless the tokenizer's ids index the model's embeddings correctly.

    Every id must be below ``config.vocab_size``, and [CLS], [SEP], [PAD] must exist. When
    ``checkpoint_dir`` holds a ``tokenizer.json``, the vocabularies must be identical: pretrained
    embeddings belong to the checkpoint's token ids, so a BPE vocabulary trained on other data
    cannot be used with them.
    """
    vocab = _tokenizer_vocab(tokenizer_json)
    largest = max(vocab.values(), default=-1)
    if largest >= config.vocab_size:
        raise UserError(
            f"tokenizer has ids up to {largest} ({len(vocab)} tokens) but the model's embeddings hold "
            f"{config.vocab_size}",
            tokenizer_json,
        )
    absent = [token for token in ("[CLS]", "[SEP]", "[PAD]") if token not in vocab]
    if absent:
        raise UserError(f"tokenizer lacks the special token(s) {', '.join(absent)}", tokenizer_json)
    if checkpoint_dir is None:
        return
    reference_path = os.path.join(checkpoint_dir, TOKENIZER_JSON)
    if not os.path.isfile(reference_path):
        return
    reference = _tokenizer_vocab(reference_path)
    if vocab != reference:
        differing = sum(1 for token, index in vocab.items() if reference.get(token) != index)
        differing += sum(1 for token in reference if token not in vocab)
        raise UserError(
            f"tokenizer vocabulary differs from the checkpoint's {reference_path} ({differing} token(s) differ): "
            "pretrained embeddings only fit the tokenizer they were trained with; fine-tune with the "
            "checkpoint's tokenizer.json",
            tokenizer_json,
        )


def save_pretrained(model, directory: str | os.PathLike, provenance: dict[str, Any] | None = None,
                    tokenizer_json: str | os.PathLike | None = None) -> None:
    """Write a Hugging Face-layout DNABERT-2 folder (config.json, model.safetensors, provenance.json,
    and tokenizer.json when given) with the model-directory writer, without model.json: a
    checkpoint that ``from_pretrained``, ``dnabert2-finetune --model`` and score-regions read.

    Keys use the original layout; the tied masked-LM decoder weight is stored once (as the word
    embeddings). Callers that need all-or-nothing output pass a folder from
    ``AtomicOutputs.directory``.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    prefix = _key_prefix(model)
    tensors = {prefix + key: value for key, value in model.state_dict().items() if key != TIED_DECODER_KEY}
    record = provenance_record(model_class=type(model).__name__, **dict(provenance or {}))
    save_model_dir(directory, kind=None, config=model.config.to_dict(architecture=model.architecture), tensors=tensors,
                   provenance_info=record, tokenizer=tokenizer_json)
