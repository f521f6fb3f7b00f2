"""The pretraining corpus: tiles of a genome (width, step, chromosome ends), N-rich tiles and
--exclude regions left out, the validation hold-out by position hash, FASTA records as tiles, and
a stream that reads only the tiles of the batch it makes."""

import numpy as np
import pytest
from genome_fixtures import write_genome

from enhancer_tools.errors import UserError
from enhancer_tools.training.mlm_corpus import (
    FastaSequences,
    GenomeSequences,
    build_corpus,
    position_hash,
    read_exclude,
)

RNG = np.random.default_rng(3)
CHR1 = "".join(RNG.choice(list("ACGT"), 1000))
CHR2 = "".join(RNG.choice(list("ACGT"), 300)) + "N" * 100 + "".join(RNG.choice(list("acgt"), 200))
GENOME = {"chr1": CHR1, "chr2": CHR2, "chrS": "ACGT" * 10}


def _tiles(corpus):
    names = corpus.source.names
    both = [corpus.train, corpus.val]
    return sorted((names[c], s, e) for t in both for c, s, e in zip(t.seq.tolist(), t.start.tolist(), t.end.tolist()))


def test_tiles_cover_each_chromosome_and_skip_n_rich_and_short(tmp_path):
    source = GenomeSequences(str(write_genome(tmp_path, GENOME, width=60)))
    corpus = build_corpus(source, width=100, step=100, val_fraction=0.0)
    tiles = _tiles(corpus)
    assert [t for t in tiles if t[0] == "chr1"] == [("chr1", s, s + 100) for s in range(0, 1000, 100)]
    # chr2: 300 bp, 100 N, 200 lowercase: the tile of the gap is out, lowercase bases count as bases
    assert [t for t in tiles if t[0] == "chr2"] == [("chr2", s, s + 100) for s in (0, 100, 200, 400, 500)]
    assert corpus.counts["tiles_n_rich"] == 1  # [300, 400), all N
    assert not [t for t in tiles if t[0] == "chrS"], "a chromosome shorter than a tile has none"
    seq = corpus.sequences(corpus.train.take(np.array([len(corpus.train) - 1])))[0]
    assert seq == CHR2[500:600].upper()


def test_step_smaller_than_width_overlaps_tiles(tmp_path):
    source = GenomeSequences(str(write_genome(tmp_path, {"chr1": CHR1})))
    corpus = build_corpus(source, width=300, step=250, val_fraction=0.0)
    assert [s for _, s, _ in _tiles(corpus)] == [0, 250, 500]


def test_exclude_leaves_out_every_overlapping_tile(tmp_path):
    genome = write_genome(tmp_path, GENOME)
    source = GenomeSequences(str(genome))
    bed = tmp_path / "test.bed"
    bed.write_text("chr1\t150\t151\nchr1\t399\t401\nchr2\t0\t100\n")
    corpus = build_corpus(source, 100, 100, 0.0, read_exclude(str(bed), source.sizes))
    starts = {(c, s) for c, s, _ in _tiles(corpus)}
    assert ("chr1", 100) not in starts and ("chr1", 300) not in starts and ("chr1", 400) not in starts
    assert ("chr1", 200) in starts and ("chr1", 0) in starts
    assert ("chr2", 0) not in starts and ("chr2", 100) in starts
    assert corpus.counts["tiles_excluded"] == 4


def test_exclude_with_an_unknown_chromosome_is_a_user_error(tmp_path):
    source = GenomeSequences(str(write_genome(tmp_path, GENOME)))
    bed = tmp_path / "other.bed"
    bed.write_text("chr1\t0\t10\nchr9\t5\t10\n")
    with pytest.raises(UserError, match=r"chromosome 'chr9' is not in the genome") as err:
        read_exclude(str(bed), source.sizes)
    assert err.value.line == 2


def test_no_usable_tile_is_a_user_error(tmp_path):
    source = GenomeSequences(str(write_genome(tmp_path, {"chrN": "N" * 500, "chrS": "ACGT"})))
    with pytest.raises(UserError, match="no usable 100 bp tile"):
        build_corpus(source, 100, 100, 0.01)


def test_validation_hold_out_depends_on_position_only(tmp_path):
    big = {f"chr{i}": "".join(RNG.choice(list("ACGT"), 5000)) for i in range(1, 4)}
    a = build_corpus(GenomeSequences(str(write_genome(tmp_path, big, name="a.fa"))), 50, 50, 0.2)
    reordered = dict(reversed(list(big.items())))
    b = build_corpus(GenomeSequences(str(write_genome(tmp_path, reordered, name="b.fa"))), 50, 50, 0.2)
    val = lambda c: sorted((c.source.names[i], s) for i, s in zip(c.val.seq.tolist(), c.val.start.tolist()))
    assert val(a) == val(b)
    assert 0.15 < len(a.val) / (len(a.val) + len(a.train)) < 0.25
    h = position_hash("chr1", np.arange(0, 100000, 50))
    assert 0 <= h.min() and h.max() < 1 and abs(h.mean() - 0.5) < 0.02


def test_fasta_records_are_tiled_and_short_ones_kept_whole(tmp_path):
    path = tmp_path / "seqs.fa"
    path.write_text(f">a label=1\n{CHR1[:250]}\n>b\nACGTACGTAC\n>c\n{'N' * 40}\n")
    corpus = build_corpus(FastaSequences([str(path)]), 100, 100, 0.0)
    assert _tiles(corpus) == [("0:a", 0, 100), ("0:a", 100, 200), ("0:b", 0, 10)]


class CountingSource:
    """A source that counts the bases it was asked for."""

    def __init__(self, inner):
        self.inner, self.fetched = inner, 0
        self.names, self.sizes, self.path = inner.names, inner.sizes, inner.path

    def fetch(self, index, start, end):
        self.fetched += end - start
        return self.inner.fetch(index, start, end)


def test_a_batch_reads_only_its_own_tiles(tmp_path):
    import torch
    from dnabert2_finetune_helpers import FIXTURES

    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForMaskedLM
    from enhancer_tools.tokenize.encode import load_tokenizer
    from enhancer_tools.training.mlm_corpus import masking_rule
    from enhancer_tools.training.pretrain import Pretrainer
    from enhancer_tools.training.pretrain_settings import PretrainSettings

    big = {f"chr{i}": "".join(RNG.choice(list("ACGT"), 20000)) for i in range(1, 3)}
    source = CountingSource(GenomeSequences(str(write_genome(tmp_path, big))))
    corpus = build_corpus(source, 200, 200, 0.0)
    source.fetched = 0
    tokenizer = load_tokenizer(FIXTURES / "tokenizer.json")
    model = DNABERT2ForMaskedLM(DNABERT2Config.tiny(vocab_size=4096, hidden_size=16, intermediate_size=32))
    settings = PretrainSettings(max_tokens=64, batch_size=4, steps=3, eval_every=0)
    trainer = Pretrainer(model, corpus, tokenizer, masking_rule(tokenizer, 4096, 0.15), settings)
    seen = []
    for micro in range(2 * trainer.steps_per_epoch):  # two epochs
        inputs, attention, positions, targets = trainer.micro_batch(micro)
        assert inputs.shape[0] == 4 and attention.shape == inputs.shape
        assert len(positions) == len(targets) > 0
        assert (targets > 4).all(), "special tokens ([UNK] [CLS] [SEP] [PAD] [MASK] = 0-4) are never targets"
        seen.append(micro)
    assert source.fetched == 2 * trainer.steps_per_epoch * 4 * 200, "each batch reads its 4 tiles, nothing more"
    order0, _ = trainer._order(0)
    assert sorted(order0.tolist()) == list(range(len(corpus.train))), "an epoch visits every tile once"
    again = trainer.micro_batch(5)
    assert torch.equal(again[0], trainer.micro_batch(5)[0]), "a micro-batch is a function of its number"
