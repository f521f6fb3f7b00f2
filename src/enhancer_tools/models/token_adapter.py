"""Task adapters for token models (DNABERT-2): token ids, dynamic padding, length buckets; and
the variant that caches token ids on disk, which trials, epochs, ``--resume``, torchrun ranks
and workers of a shared study reuse."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence

log = logging.getLogger(__name__)

TRUNCATION_WARNING_FRACTION = 0.001


class TokenAdapter:
    """Encode with ``enhancer_tools.tokenize.encode`` (``[CLS] seq [SEP]``, upper-cased, truncated
    to ``max_length`` tokens); batches are right-padded to their longest member with [PAD] and
    carry an ``attention_mask``; ``lengths`` lets the trainer bucket batches by length.

    ``pad_multiple`` > 1 is the static-shape path: batches are padded to a multiple of it (8:
    fixed bucket lengths 8, 16, ... that tensor cores like), so that a compiled model meets a
    few shapes again and again instead of one per length."""

    def __init__(self, tokenizer_path: str | os.PathLike, max_length: int, pad_multiple: int = 1) -> None:
        from enhancer_tools.tokenize.encode import load_tokenizer

        self.tokenizer = load_tokenizer(tokenizer_path)
        self.pad_id = self.tokenizer.token_to_id("[PAD]")
        self.max_length = max_length
        self.pad_multiple = pad_multiple

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
        width = -(-width // self.pad_multiple) * self.pad_multiple
        ids = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, x in enumerate(items):
            ids[row, : len(x)] = torch.from_numpy(x)
            mask[row, : len(x)] = 1
        return {"input_ids": ids, "attention_mask": mask}


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
