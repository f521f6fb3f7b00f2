"""DNABERT-2 as a model family of the shared training workflow (``enhancer_tools.training.fit``).

Two starting points, with their own defaults and Optuna search spaces:

- pretrained (``--model DIR``): the DNABERT-2 authors' fine-tuning settings (learning rate
  3e-5, batch 32, dropout 0.1, a few epochs); the search keeps the learning rate log-uniform
  in 1e-5..1e-4 around 3e-5.
- from scratch (``--init tiny|CONFIG.json``): random weights need a learning rate about a
  hundred times higher; the search spans 1e-4..3e-3.

Token ids are computed once per (tokenizer sha256, max_length, sequences sha256) and cached in
``MODEL_DIR.work/cache/tokens-<key>.npz``, which trials, epochs, ``--resume`` and workers of a
shared study reuse.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Sequence

from enhancer_tools.models.token_adapter import TokenAdapter

log = logging.getLogger(__name__)

TRUNCATION_WARNING_FRACTION = 0.001

_COMMON = {"grad_accum": 1, "max_grad_norm": 1.0, "patience": 3, "rc_augment": False, "class_weights": False,
           "checkpoint_every": 0, "eval_every": 0, "num_workers": 0, "precision": "auto", "attention": "sdpa",
           "gradient_checkpointing": False, "compile": False}
PRETRAINED_DEFAULTS = {**_COMMON, "epochs": 5, "batch_size": 32, "learning_rate": 3e-5, "warmup_ratio": 0.1,
                       "weight_decay": 0.01, "dropout": 0.1}
SCRATCH_DEFAULTS = {**_COMMON, "epochs": 5, "batch_size": 32, "learning_rate": 1e-3, "warmup_ratio": 0.1,
                    "weight_decay": 0.01, "dropout": 0.1}
_SHARED_SPACE = {
    "batch_size": [16, 32, 64],
    "warmup_ratio": {"low": 0.0, "high": 0.2},
    "weight_decay": {"low": 1e-4, "high": 1e-1, "log": True},
    "dropout": {"low": 0.0, "high": 0.3},
}
PRETRAINED_SPACE = {"learning_rate": {"low": 1e-5, "high": 1e-4, "log": True}, **_SHARED_SPACE}
SCRATCH_SPACE = {"learning_rate": {"low": 1e-4, "high": 3e-3, "log": True}, **_SHARED_SPACE}


class CachedTokenAdapter(TokenAdapter):
    """A TokenAdapter whose encodings are stored in ``cache_dir`` and read back when the same
    tokenizer, max_length and sequences come again. Warns when max_length truncates more than
    0.1% of the sequences of a set."""

    def __init__(self, tokenizer_path: str | os.PathLike, max_length: int, cache_dir: str | None = None) -> None:
        super().__init__(tokenizer_path, max_length)
        self.tokenizer_path = os.fspath(tokenizer_path)
        self.cache_dir = cache_dir

    def cache_path(self, seqs: Sequence[str]) -> str:
        """The cache file of these sequences under this tokenizer and max_length."""
        from enhancer_tools.io.runinfo import sha256_file

        key = hashlib.sha256(f"{sha256_file(self.tokenizer_path)}:{self.max_length}:".encode())
        for seq in seqs:
            key.update(seq.upper().encode())
            key.update(b"\n")
        return os.path.join(self.cache_dir, f"tokens-{key.hexdigest()[:20]}.npz")

    def encode(self, seqs: Sequence[str]) -> list:
        import numpy as np

        if self.cache_dir is None:
            items = super().encode(seqs)
            self._warn_truncation(self._count_truncated(seqs), len(seqs))
            return items
        path = self.cache_path(seqs)
        if os.path.exists(path):
            with np.load(path) as stored:
                ids, offsets, truncated = stored["ids"], stored["offsets"], int(stored["truncated"])
            log.info("token ids of %d sequences read from %s", len(seqs), path)
            self._warn_truncation(truncated, len(seqs))
            return [ids[offsets[i]:offsets[i + 1]] for i in range(len(seqs))]
        items = super().encode(seqs)
        truncated = self._count_truncated(seqs)
        self._warn_truncation(truncated, len(seqs))
        log.info("tokenised %d sequences; token ids cached in %s", len(seqs), path)
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in items], out=offsets[1:])
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"  # workers of a shared study may write the same file
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=np.concatenate(items) if items else np.zeros(0, np.int64), offsets=offsets,
                     truncated=np.int64(truncated))
        os.replace(tmp, path)
        return items

    def _count_truncated(self, seqs: Sequence[str]) -> int:
        from enhancer_tools.tokenize.lengths import token_length_stats

        if not seqs:
            return 0
        return int(token_length_stats(self.tokenizer_path, seqs, self.max_length)["truncated_sequences"])

    def _warn_truncation(self, truncated: int, n: int) -> None:
        if n and truncated / n > TRUNCATION_WARNING_FRACTION:
            log.warning("--max-length %d truncates %d of %d sequences (%.2f%%): their ends are not seen by the model "
                        "(bpe-train --stats-only reports the max_length that holds 99.9%%)", self.max_length,
                        truncated, n, 100 * truncated / n)


def build_model(params: dict):
    """A DNABERT2ForSequenceClassification: the checkpoint ``params['model']`` (fresh head for a
    masked-LM checkpoint) or random weights of ``params['architecture']``."""
    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification

    overrides = {"hidden_dropout_prob": float(params["dropout"]), "attention_implementation": params["attention"]}
    if params.get("model"):
        model = DNABERT2ForSequenceClassification.from_pretrained(params["model"], **overrides)
    else:
        config = dataclasses.replace(DNABERT2Config.from_dict(params["architecture"]), **overrides)
        model = DNABERT2ForSequenceClassification(config)
    model.gradient_checkpointing_enable(bool(params["gradient_checkpointing"]))
    if params["compile"]:
        model.compile_layers()
    return model


def family(pretrained: bool, cache_dir: str | None = None):
    """The DNABERT-2 ModelFamily: defaults and search space for a ``pretrained`` checkpoint or
    for training from scratch; token ids cached in ``cache_dir``."""
    from enhancer_tools.training.fit import ModelExport, ModelFamily

    def export(model, params: dict) -> ModelExport:
        return ModelExport(config=model.config.to_dict(architecture=model.architecture), tensors=model.state_dict(),
                           window={"width": int(params["width"])} if params.get("width") else None,
                           max_length=int(params["max_length"]), tokenizer=params["tokenizer"],
                           info={"input": "BPE token ids [CLS] seq [SEP], upper-cased, [PAD]-padded",
                                 "init": params.get("model") or "scratch"})

    return ModelFamily(kind="dnabert2", defaults=dict(PRETRAINED_DEFAULTS if pretrained else SCRATCH_DEFAULTS),
                       search_space=dict(PRETRAINED_SPACE if pretrained else SCRATCH_SPACE), build=build_model,
                       adapter=lambda params: CachedTokenAdapter(params["tokenizer"], int(params["max_length"]),
                                                                 cache_dir),
                       export=export,
                       encoding_key=lambda params: (params["tokenizer"], int(params["max_length"])))
