"""The task-adapter interface: how a model family turns sequences into batches of tensors.

The trainer and inference never look inside a model's inputs; they ask the adapter:

- ``encode(seqs) -> items``: encode upper-cased sequences once (an indexable collection:
  a numpy array of base codes, a list of token-id arrays, ...).
- ``collate(items) -> dict[str, Tensor]``: build one batch; the model is called as
  ``model(**batch)``.
- ``lengths(items) -> numpy int array | None``: per-item lengths for length-bucketed
  batching (None: batches keep the shuffled order).

Inference over a model and its adapter is ``models.scorer.TorchScorer``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class TaskAdapter(Protocol):
    """See the module docstring."""

    def encode(self, seqs: Sequence[str]) -> Any: ...

    def collate(self, items: Sequence[Any]) -> dict: ...

    def lengths(self, items: Any): ...


def take(items: Any, indices: Sequence[int]) -> list:
    """Items at ``indices`` (numpy fancy indexing where possible)."""
    if hasattr(items, "shape"):
        return items[list(indices)]
    return [items[i] for i in indices]


def to_device(batch: dict, device: str) -> dict:
    """``batch`` on ``device`` (non-blocking from pinned memory). An ``attention_mask`` without
    padding is dropped here, on the CPU, so that the model need not ask the device whether the
    batch has padding (a host sync in every forward)."""
    mask = batch.get("attention_mask")
    if mask is not None and mask.device.type == "cpu" and mask.numpy().all():  # host memory: no sync
        batch = {k: v for k, v in batch.items() if k != "attention_mask"}
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def length_order(adapter: TaskAdapter, items: Any):
    """Indices of ``items`` sorted by length (stable; None when the adapter has no lengths), so
    that batches of neighbours carry little padding."""
    import numpy as np

    lengths = adapter.lengths(items)
    if lengths is None:
        return None
    return np.argsort(np.asarray(lengths), kind="stable")
