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
