"""The masked-language-model corpus of ``dnabert2-pretrain``: tiles of a genome (or of FASTA
sequences), and BERT masking.

Tiles are ``width`` bp every ``step`` bp along each sequence (a FASTA sequence shorter than one
tile is one tile of its own length). A tile is left out when more than ``max_n_frac`` of it is N
(assembly gaps) or when it overlaps an ``--exclude`` interval (e.g. the test split's windows:
pretraining on them would leak them into the later evaluation). Which tiles are held out for
validation is a hash of (sequence name, start), so it does not depend on the order of the
sequences, on the seed or on other tiles.

Nothing is tokenised ahead: the corpus holds only the tiles' positions (12 bytes a tile; the
genome stays on disk, read through its faidx index), and ``training.pretrain`` reads and
tokenises each batch when it needs it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.seq import reverse_complement

log = logging.getLogger(__name__)

IGNORE_INDEX = -100  # label of positions the loss ignores (as in transformers)
DEFAULT_MAX_N_FRAC = 0.1
_MASK64 = (1 << 64) - 1
_READ_TILES = 4096  # tiles read per block when counting N


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def position_hash(name: str, starts: np.ndarray) -> np.ndarray:
    """A uniform value in [0, 1) per tile start of sequence ``name`` (splitmix64 of name ^ start)."""
    with np.errstate(over="ignore"):
        x = np.uint64(_name_key(name)) ^ starts.astype(np.uint64)
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(_MASK64)
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(_MASK64)
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(_MASK64)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class GenomeSequences:
    """Random access to the chromosomes of an indexed genome FASTA (plain or bgzip)."""

    def __init__(self, path: str) -> None:
        from enhancer_tools.genome.reference import chrom_sizes, open_genome

        self.path = path
        self.fasta = open_genome(path)
        self.sizes = chrom_sizes(self.fasta)
        self.names = list(self.sizes)

    def fetch(self, index: int, start: int, end: int) -> str:
        return self.fasta.fetch(self.names[index], start, end)


class FastaSequences:
    """The records of FASTA files, kept as text (1 byte a base; for a genome use ``--genome``)."""

    def __init__(self, paths: list[str]) -> None:
        from enhancer_tools.io.fasta import read_fasta

        self.path = ",".join(paths)
        self.seqs: list[str] = []
        self.names: list[str] = []
        for file_no, path in enumerate(paths):
            for rec in read_fasta(path):
                self.names.append(f"{file_no}:{rec.id}")
                self.seqs.append(rec.seq)
        if not self.seqs:
            raise UserError("no FASTA records", self.path)
        self.sizes = dict(zip(self.names, map(len, self.seqs)))

    def fetch(self, index: int, start: int, end: int) -> str:
        return self.seqs[index][start:end]


@dataclass
class TileSet:
    """Tiles as (sequence index, start, end) arrays."""

    seq: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.seq)

    def take(self, index: np.ndarray) -> TileSet:
        return TileSet(self.seq[index], self.start[index], self.end[index])


@dataclass
class Corpus:
    """The usable tiles of a source, split into training and validation tiles."""

    source: object
    width: int
    step: int
    train: TileSet
    val: TileSet
    counts: dict = field(default_factory=dict)

    def sequences(self, tiles: TileSet, strands: np.ndarray | None = None) -> list[str]:
        """The tiles' sequences, upper-cased, reverse-complemented where ``strands`` is 1."""
        out = []
        for i in range(len(tiles)):
            seq = self.source.fetch(int(tiles.seq[i]), int(tiles.start[i]), int(tiles.end[i])).upper()
            out.append(reverse_complement(seq) if strands is not None and strands[i] else seq)
        return out


def read_exclude(path: str, sizes: dict[str, int]) -> dict[str, list[tuple[int, int]]]:
    """The ``--exclude`` BED as {chrom: [(start, end), ...]}; UserError for a chromosome the
    genome does not have (a BED of another assembly, or other chromosome names)."""
    from enhancer_tools.io.intervals import read_intervals

    out: dict[str, list[tuple[int, int]]] = {}
    for iv in read_intervals(path):
        if iv.chrom not in sizes:
            raise UserError(f"chromosome {iv.chrom!r} is not in the genome (a BED of another assembly, or other "
                            "chromosome names?)", path, iv.line)
        out.setdefault(iv.chrom, []).append((iv.start, iv.end))
    return out


def _excluded(starts: np.ndarray, width: int, step: int, intervals: list[tuple[int, int]]) -> np.ndarray:
    """True for the tiles (start k*step, k = 0..) that overlap any interval."""
    hit = np.zeros(len(starts), dtype=bool)
    for a, b in intervals:
        first = max(0, -(-(a - width + 1) // step))
        last = (b - 1) // step
        if first <= last:
            hit[first:last + 1] = True
    return hit


def _n_counts(source, index: int, starts: np.ndarray, width: int) -> np.ndarray:
    """N (and other non-ACGT) bases of each tile of one sequence, read in blocks of tiles."""
    counts = np.zeros(len(starts), dtype=np.int64)
    for b in range(0, len(starts), _READ_TILES):
        part = starts[b:b + _READ_TILES]
        lo, hi = int(part[0]), int(part[-1]) + width
        block = np.frombuffer(source.fetch(index, lo, hi).upper().encode("ascii"), dtype=np.uint8)
        bad = ~np.isin(block, np.frombuffer(b"ACGT", dtype=np.uint8))
        cum = np.concatenate([[0], np.cumsum(bad)])
        rel = part - lo
        counts[b:b + len(part)] = cum[np.minimum(rel + width, len(block))] - cum[rel]
    return counts


def _sequence_tiles(source, index: int, size: int, width: int, step: int, exclude, max_n_frac: float):
    """(starts, ends, n excluded, n N-rich) of the usable tiles of one sequence."""
    if size < width:  # a short FASTA record is one tile; a short chromosome has none
        starts = np.zeros(1 if isinstance(source, FastaSequences) and size > 0 else 0, dtype=np.int64)
        ends = np.full(len(starts), size, dtype=np.int64)
    else:
        starts = np.arange(0, size - width + 1, step, dtype=np.int64)
        ends = starts + width
    keep = ~_excluded(starts, width, step, exclude) if exclude else np.ones(len(starts), dtype=bool)
    n_excluded = int((~keep).sum())
    n_rich = np.zeros(len(starts), dtype=bool)
    if keep.any():
        n_rich = _n_counts(source, index, starts, width) > max_n_frac * (ends - starts)
    n_rich &= keep
    keep &= ~n_rich
    return starts[keep], ends[keep], n_excluded, int(n_rich.sum())


def build_corpus(source, width: int, step: int, val_fraction: float, exclude: dict | None = None,
                 max_n_frac: float = DEFAULT_MAX_N_FRAC) -> Corpus:
    """Every usable tile of ``source`` (GenomeSequences or FastaSequences), split by position hash
    into training and validation; UserError when no tile is usable."""
    parts, counts = [], {"sequences": len(source.names), "tiles_excluded": 0, "tiles_n_rich": 0}
    for index, name in enumerate(source.names):
        starts, ends, n_excluded, n_rich = _sequence_tiles(source, index, source.sizes[name], width, step,
                                                           (exclude or {}).get(name), max_n_frac)
        counts["tiles_excluded"] += n_excluded
        counts["tiles_n_rich"] += n_rich
        held = position_hash(name, starts) < val_fraction
        parts.append((np.full(len(starts), index, dtype=np.int32), starts, ends, held))
    seq, starts, ends, held = (np.concatenate(column) for column in zip(*parts))
    if len(seq) == 0:
        raise UserError(f"no usable {width} bp tile: every sequence is shorter than a tile, more than "
                        f"{max_n_frac:.0%} N, or excluded", source.path)
    tiles = TileSet(seq, starts, ends)
    train, val = tiles.take(np.flatnonzero(~held)), tiles.take(np.flatnonzero(held))
    if len(train) == 0:
        raise UserError(f"all {len(val)} usable tiles were held out for validation; lower --val-fraction",
                        source.path)
    counts.update(tiles_train=len(train), tiles_val=len(val), bases_train=int((train.end - train.start).sum()))
    return Corpus(source, width, step, train, val, counts)


def sample_bp_per_token(source, tokenizer_json: str, n: int = 200, width: int = 2000) -> float:
    """Bases per token of the tokenizer on up to ``n`` evenly spaced ``width`` bp stretches of
    the source without N (as bpe-train's statistics count them: no [CLS]/[SEP])."""
    from enhancer_tools.tokenize.lengths import count_token_lengths

    sizes = np.array([source.sizes[name] for name in source.names], dtype=np.int64)
    ends = np.cumsum(sizes)
    seqs = []
    for k in range(n):
        pos = (2 * k + 1) * int(ends[-1]) // (2 * n)
        index = int(np.searchsorted(ends, pos, side="right"))
        pos -= int(ends[index] - sizes[index])
        size = int(sizes[index])
        seq = source.fetch(index, max(0, min(pos, size - width)), min(size, pos + width)).upper()
        if seq and seq.count("N") == 0:
            seqs.append(seq)
    if not seqs:
        raise UserError("found no stretch without N to measure the tokenizer's bp per token; give --width",
                        source.path)
    with open(tokenizer_json, encoding="utf-8") as fh:
        histogram, bases, _ = count_token_lengths(fh.read(), seqs, workers=1)
    return bases / max(1, int((np.arange(histogram.size) * histogram).sum()))


@dataclass(frozen=True)
class MaskingRule:
    """BERT masking: ``prob`` of the maskable tokens are chosen; of those 80% become [MASK], 10% a
    random ordinary token, 10% stay. Special tokens are never chosen."""

    mask_id: int
    special_ids: tuple[int, ...]
    vocab_size: int
    prob: float = 0.15

    def apply(self, ids, generator):
        """(inputs, labels) for a LongTensor of token ids [B, L]; labels are -100 where not chosen."""
        import torch

        maskable = ~torch.isin(ids, torch.tensor(self.special_ids, dtype=ids.dtype))
        chosen = (torch.rand(ids.shape, generator=generator) < self.prob) & maskable
        labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))
        action = torch.rand(ids.shape, generator=generator)
        ordinary = torch.tensor([i for i in range(self.vocab_size) if i not in self.special_ids], dtype=ids.dtype)
        random_ids = ordinary[torch.randint(len(ordinary), ids.shape, generator=generator)]
        inputs = torch.where(chosen & (action < 0.8), torch.full_like(ids, self.mask_id), ids)
        inputs = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, inputs)
        return inputs, labels


def masking_rule(tokenizer, vocab_size: int, prob: float) -> MaskingRule:
    """The rule for a DNABERT-2 tokenizer (UserError when it has no [MASK] token)."""
    from enhancer_tools.tokenize.encode import special_ids

    specials = special_ids(tokenizer)
    if "[MASK]" not in specials:
        raise UserError("the tokenizer has no [MASK] token, which masked-LM pretraining needs")
    return MaskingRule(specials["[MASK]"], tuple(sorted(specials.values())), vocab_size, prob)


def pad_batch(encoded: list[list[int]], pad_id: int):
    """Right-padded LongTensor of token ids and the attention mask."""
    import torch

    length = max(map(len, encoded))
    ids = torch.full((len(encoded), length), pad_id, dtype=torch.long)
    for row, e in enumerate(encoded):
        ids[row, :len(e)] = torch.tensor(e, dtype=torch.long)
    return ids, (ids != pad_id).long()


def file_fingerprint(path: str) -> dict:
    """What identifies an input for --resume without reading it whole: path, size, mtime."""
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime": int(st.st_mtime)}
