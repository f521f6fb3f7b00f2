"""Train a DNABERT-2-style BPE tokenizer with Hugging Face ``tokenizers`` on a seeded sample.

Layout of the result (as in the real DNABERT-2 tokenizer): ``[UNK]``=0, ``[CLS]``=1,
``[SEP]``=2, ``[PAD]``=3, ``[MASK]``=4, then A, C, G, T, then one token per merge; BPE with
``[UNK]`` not fused, no normaliser, a whitespace pre-tokenizer, and the post-processor
``[CLS] $A [SEP]`` (pair: ``[CLS] $A [SEP] $B:1 [SEP]:1``).

The alphabet is A, C, G, T only. Sequences are upper-cased and cut at every other
character (N, IUPAC codes) before training, so no merge is learned across a base that the
tokenizer will later map to ``[UNK]``.

The HF trainer holds every training sequence as one word of 32-byte symbols plus its pair
index (about 49 bytes of memory per base), so it trains on a uniform seeded sample of the
input (reservoir sampling, one pass) rather than on everything.
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections.abc import Iterable, Iterator

from enhancer_tools.errors import UserError
from enhancer_tools.tokenize.encode import SPECIAL_TOKENS

log = logging.getLogger(__name__)

ALPHABET = ("A", "C", "G", "T")
TRAINER_BYTES_PER_BASE = 49
_NOT_ACGT = re.compile(r"[^ACGT]+")


def reservoir_sample(seqs: Iterable[str], k: int, seed: int) -> tuple[list[str], int]:
    """A uniform random sample of ``k`` items from a stream (all of them when fewer), in
    stream order, and the number of items seen. The same seed and input give the same sample."""
    if k < 1:
        raise UserError(f"the sample size must be at least 1; got {k}")
    rng = random.Random(seed)
    sample: list[tuple[int, str]] = []
    n = 0
    for n, seq in enumerate(seqs, start=1):
        if n <= k:
            sample.append((n, seq))
        else:
            j = rng.randrange(n)
            if j < k:
                sample[j] = (n, seq)
    sample.sort()
    return [seq for _, seq in sample], n


def training_words(seqs: Iterable[str]) -> Iterator[str]:
    """Upper-cased A/C/G/T runs of each sequence: the 'words' the BPE trainer sees."""
    for seq in seqs:
        for word in _NOT_ACGT.split(seq.upper()):
            if word:
                yield word


def check_vocab_size(vocab_size: int) -> None:
    """UserError unless the vocabulary has room for the specials and the four bases."""
    smallest = len(SPECIAL_TOKENS) + len(ALPHABET)
    if vocab_size < smallest:
        raise UserError(
            f"--vocab-size {vocab_size} is smaller than the {len(SPECIAL_TOKENS)} special tokens plus "
            f"the {len(ALPHABET)} bases ({smallest})"
        )


def check_memory(n_bases: int) -> int:
    """Estimated trainer memory in bytes for ``n_bases``; UserError when it clearly exceeds the
    memory available now (so a run fails in seconds, not after the kernel kills it)."""
    need = n_bases * TRAINER_BYTES_PER_BASE
    available = _available_memory()
    if available is not None and need > available:
        raise UserError(
            f"training on {n_bases:,} bases needs about {need / 1e9:.1f} GB but {available / 1e9:.1f} GB "
            "is available; lower --max-sequences"
        )
    return need


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def train_bpe(seqs: list[str], vocab_size: int, max_token_length: int | None = None):
    """Train a DNABERT-2-layout BPE ``tokenizers.Tokenizer`` on ``seqs`` (any case).

    Raises UserError when the vocabulary is too small for the specials and bases, or when
    the sequences hold no A/C/G/T at all.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    check_vocab_size(vocab_size)
    if max_token_length is not None and max_token_length < 2:
        raise UserError(f"--max-token-length must be at least 2; got {max_token_length}")
    words = list(training_words(seqs))
    if not words:
        raise UserError("the training sequences contain no A, C, G or T")
    check_memory(sum(map(len, words)))
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]", fuse_unk=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=list(ALPHABET),
        limit_alphabet=len(ALPHABET),
        max_token_length=max_token_length,
        show_progress=False,
    )
    tokenizer.train_from_iterator(words, trainer=trainer, length=len(words))
    del words
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    got = tokenizer.get_vocab_size()
    if got < vocab_size:
        log.warning("the training sample supports only %d of the %d requested tokens", got, vocab_size)
    return tokenizer


def save_tokenizer(tokenizer, path: str | os.PathLike) -> None:
    """Write ``tokenizer.json`` (indented, as Hugging Face writes it)."""
    tokenizer.save(os.fspath(path), pretty=True)
