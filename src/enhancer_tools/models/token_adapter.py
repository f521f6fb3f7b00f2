"""Task adapter for token models (DNABERT-2): token ids, dynamic padding, length buckets."""

from __future__ import annotations

import os
from collections.abc import Sequence


class TokenAdapter:
    """Encode with ``enhancer_tools.tokenize.encode`` (``[CLS] seq [SEP]``, upper-cased, truncated
    to ``max_length`` tokens); batches are right-padded to their longest member with [PAD] and
    carry an ``attention_mask``; ``lengths`` lets the trainer bucket batches by length."""

    def __init__(self, tokenizer_path: str | os.PathLike, max_length: int) -> None:
        from enhancer_tools.tokenize.encode import load_tokenizer

        self.tokenizer = load_tokenizer(tokenizer_path)
        self.pad_id = self.tokenizer.token_to_id("[PAD]")
        self.max_length = max_length

    def encode(self, seqs: Sequence[str]) -> list:
        import numpy as np

        from enhancer_tools.tokenize.encode import encode_sequences

        return [np.asarray(ids, dtype=np.int64) for ids in encode_sequences(self.tokenizer, list(seqs), self.max_length)]

    def lengths(self, items):
        import numpy as np

        return np.fromiter((len(x) for x in items), dtype=np.int64, count=len(items))

    def collate(self, items: Sequence) -> dict:
        import torch

        width = max(len(x) for x in items)
        ids = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, x in enumerate(items):
            ids[row, : len(x)] = torch.from_numpy(x)
            mask[row, : len(x)] = 1
        return {"input_ids": ids, "attention_mask": mask}
