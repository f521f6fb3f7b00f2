"""The task-adapter interface: how a model family turns sequences into batches of tensors.

The trainer and inference never look inside a model's inputs; they ask the adapter:

- ``encode(seqs) -> items``: encode upper-cased sequences once (an indexable collection:
  a numpy array of base codes, a list of token-id arrays, ...).
- ``collate(items) -> dict[str, Tensor]``: build one batch; the model is called as
  ``model(**batch)``.
- ``lengths(items) -> numpy int array | None``: per-item lengths for length-bucketed
  batching (None: batches keep the shuffled order).

A model's output may be a tensor [B] (log-odds), [B, 1], [B, 2] (two-class logits), or an
object with ``.logits``; ``positive_logodds`` reduces it to the positive-class log-odds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class TaskAdapter(Protocol):
    """See the module docstring."""

    def encode(self, seqs: Sequence[str]) -> Any: ...

    def collate(self, items: Sequence[Any]) -> dict: ...

    def lengths(self, items: Any): ...


def positive_logodds(output):
    """Positive-class log-odds [B] from a model output (tensor or object with ``.logits``)."""
    logits = getattr(output, "logits", output)
    if logits.dim() == 2 and logits.shape[1] == 2:
        return logits[:, 1] - logits[:, 0]
    if logits.dim() == 2 and logits.shape[1] == 1:
        return logits[:, 0]
    if logits.dim() == 1:
        return logits
    raise ValueError(f"cannot read a binary score from model output of shape {tuple(logits.shape)}")


def take(items: Any, indices: Sequence[int]) -> list:
    """Items at ``indices`` (numpy fancy indexing where possible)."""
    if hasattr(items, "shape"):
        return items[list(indices)]
    return [items[i] for i in indices]


def predict_logodds(model, adapter: TaskAdapter, seqs: Sequence[str], batch_size: int = 64, device: str = "cpu", items: Any = None):
    """Positive-class log-odds of ``seqs`` (numpy float64 [n]): eval mode, no grad, batched.

    ``items`` (already encoded) skips encoding. Sequences are upper-cased here.
    """
    import numpy as np
    import torch

    if items is None:
        items = adapter.encode([s.upper() for s in seqs])
    n = len(items)
    was_training = model.training
    model.eval()
    out = np.empty(n, dtype=np.float64)
    with torch.no_grad():
        for start in range(0, n, batch_size):
            batch = adapter.collate(take(items, range(start, min(n, start + batch_size))))
            batch = {k: v.to(device) for k, v in batch.items()}
            out[start:start + len(next(iter(batch.values())))] = positive_logodds(model(**batch)).double().cpu().numpy()
    model.train(was_training)
    return out
