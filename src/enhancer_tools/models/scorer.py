"""The one inference path: how any model turns sequences into positive-class log-odds.

A scorer has three public methods, used by validation in the trainer, by score-regions'
streaming ``Predictor`` and by every later tool:

- ``encode(seqs)``: the CPU side (upper-casing, tokenising or one-hot, collating); thread-safe,
  so a producer thread can encode the next batch while the device runs this one;
- ``logodds(encoded)``: the device side, numpy float64 [n];
- ``logits(seqs, batch_size)``: both, batched (the convenience every caller without a pipeline
  uses).

Kinds with gradients add ``integrated_gradients(seqs, steps, batch_size)`` (explain-regions'
nucleotide attributions; ``TorchScorer`` has it, the k-mer scorer has not).

``TorchScorer`` serves every torch kind (eval mode, inference mode, autocast of the precision
asked for); a kind without torch (k-mer) implements the same three methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from enhancer_tools.models.adapter import TaskAdapter, length_order, take, to_device


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


class TorchScorer:
    """Scores with a torch model and its task adapter."""

    def __init__(self, model, adapter: TaskAdapter, device: str = "cpu", precision: str = "fp32",
                 max_tokens: int | None = None) -> None:
        from enhancer_tools.models.precision import enable_tf32

        enable_tf32(device)
        self.model = model.to(device)
        self.adapter = adapter
        self.device = device
        self.precision = precision
        self.max_tokens = max_tokens

    def encode(self, seqs: Sequence[str]) -> dict:
        """One model-ready batch of CPU tensors (pinned when the model runs on a GPU)."""
        batch = self.adapter.collate(self.adapter.encode([s.upper() for s in seqs]))
        if str(self.device).startswith("cuda"):
            batch = {k: v.pin_memory() for k, v in batch.items()}
        return batch

    def logodds(self, encoded: dict) -> np.ndarray:
        """Log-odds of one encoded batch (eval mode, no autograd; the model's mode is restored)."""
        import torch

        from enhancer_tools.models.precision import autocast

        batch = to_device(encoded, self.device)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), autocast(self.precision, self.device):
                out = positive_logodds(self.model(**batch)).float()
        finally:
            self.model.train(was_training)
        return out.cpu().numpy().astype(np.float64)  # the batch's one device-to-host copy

    def logits(self, seqs: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Log-odds of ``seqs`` in batches of ``batch_size``."""
        return self.logits_of_items(self.adapter.encode([s.upper() for s in seqs]), batch_size)

    def logits_of_items(self, items: Any, batch_size: int = 64) -> np.ndarray:
        """Log-odds of already encoded items (the trainer's cached encodings), in input order.

        Items are batched in length order where the adapter has lengths (little padding); the
        outputs go back to the input order."""
        n = len(items)
        order = length_order(self.adapter, items)
        out = np.empty(n, dtype=np.float64)
        for start in range(0, n, batch_size):
            rows = range(start, min(n, start + batch_size)) if order is None else order[start:start + batch_size]
            batch = self.adapter.collate(take(items, rows))
            if str(self.device).startswith("cuda"):
                batch = {k: v.pin_memory() for k, v in batch.items()}
            out[rows] = self.logodds(batch)
        return out

    def integrated_gradients(self, seqs: Sequence[str], steps: int = 32, batch_size: int = 64) -> list:
        """Nucleotide attributions of ``seqs`` by integrated gradients of the log-odds (before
        temperature): one ``models.attribution.Attribution`` ([4, len(seq)] values and
        hypothetical contributions) per sequence; on the one-hot input (EnhancerNet) or on the
        token embeddings spread back to bases (DNABERT-2). See ``models.attribution``."""
        from enhancer_tools.models.attribution import integrated_gradients

        return integrated_gradients(self, seqs, steps, batch_size, positive_logodds)
