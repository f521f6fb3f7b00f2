"""The fast block reader and the generic reader give identical keys, labels, counts and
output, also when one file is scanned in parallel byte ranges."""

import random

import numpy as np
import pytest
from xxhash import xxh3_128_digest

from dataset_helpers import dataset_with_duplicates, invoke, write_fasta
from enhancer_tools.cli.fasta_rc_dedup import main
from enhancer_tools.dataset import scan
from enhancer_tools.io import oneline_fasta


@pytest.fixture
def records():
    return dataset_with_duplicates(random.Random(11), 400)


def force_generic(monkeypatch):
    def refuse(path):
        raise oneline_fasta.NotFastLayout

    monkeypatch.setattr(scan, "fast_layout_size", refuse)


def same_records(a, b):
    assert len(a) == len(b)
    for name in ("keys", "orient", "label", "id_key"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.labels == b.labels


def test_fast_layout_is_detected(tmp_path, records):
    path = write_fasta(tmp_path / "a.fa", records)
    assert scan.scan_file(path).start is not None
    wrapped = write_fasta(tmp_path / "w.fa", records, width=25)
    assert scan.scan_file(wrapped).start is None


def test_fast_and_generic_scans_agree(tmp_path, records, monkeypatch):
    path = write_fasta(tmp_path / "a.fa", records)
    fast = scan.scan_file(path, default_label="9")
    force_generic(monkeypatch)
    same_records(fast, scan.scan_file(path, default_label="9"))
    assert [fast.line_of(i) for i in range(5)] == [1, 3, 5, 7, 9]


def test_other_layouts_give_the_same_keys(tmp_path, records):
    fast = scan.scan_file(write_fasta(tmp_path / "a.fa", records))
    for kw in ({"width": 7}, {"crlf": True}, {"gz": True}):
        same_records(fast, scan.scan_file(write_fasta(tmp_path / "b.fa", records, **kw)))


def test_parallel_byte_ranges_agree(tmp_path, records, monkeypatch):
    path = write_fasta(tmp_path / "a.fa", records)
    one = scan.scan_file(path, jobs=1, with_stats=True)  # small file: bytes methods, in this process
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 1)  # large file: the compiled kernel, in workers
    monkeypatch.setattr(oneline_fasta, "BLOCK_BYTES", 999)
    for jobs in (1, 3):
        two = scan.scan_file(path, jobs=jobs, with_stats=True)
        same_records(one, two)
        for name in ("start", "end", "length", "gc", "acgt"):
            assert np.array_equal(getattr(one, name), getattr(two, name)), name


def test_dedup_output_identical_through_both_readers(tmp_path, records, monkeypatch):
    path = write_fasta(tmp_path / "a.fa", records)
    assert invoke(main, [path, "-o", tmp_path / "fast.fa", "--clusters", tmp_path / "fast.tsv"]).exit_code == 0
    force_generic(monkeypatch)
    assert invoke(main, [path, "-o", tmp_path / "slow.fa", "--clusters", tmp_path / "slow.tsv"]).exit_code == 0
    assert (tmp_path / "fast.fa").read_bytes() == (tmp_path / "slow.fa").read_bytes()
    assert (tmp_path / "fast.tsv").read_bytes() == (tmp_path / "slow.tsv").read_bytes()


UNUSUAL_BLOCKS = [">a\nACGT\n\n>b\nACGG\n", ">a  x\nACGT\n", ">a\nAC\nGT\n", ">a\nACGT\n>b\nAC>GT\n", "> a\nACGT\n",
                  ">a\tx\nACGT\n", ">a\nACGU\n", ">a x \nACGT\n", ">\nACGT\n", ">a\n>b\nACGT\n>c\nA\n", ">a\nAC GT\n",
                  ">a\nACGT\r\n", ">a\n\n"]


@pytest.mark.parametrize("text", UNUSUAL_BLOCKS)
def test_unusual_blocks_go_to_the_generic_reader(text):
    with pytest.raises(oneline_fasta.NotFastLayout):
        batch = oneline_fasta.split_block(text.encode(), None)
        if not scan.batch_keys(batch.seqs)[2]:
            raise oneline_fasta.NotFastLayout


@pytest.mark.parametrize("text", UNUSUAL_BLOCKS)
def test_unusual_blocks_leave_the_compiled_scanner_too(text):
    with pytest.raises(oneline_fasta.NotFastLayout):
        scan._block_piece(text.encode(), 0, None, True)


def test_compiled_scanner_reads_ids_labels_and_offsets():
    block = b">r1 label=1 x\nACGT\n>r2\nacgg\n>r3 y label=0\nNNRY\n"
    piece = scan._block_piece(block, 100, b"9", True)
    assert piece.labels == [b"1", b"9", b"0"]
    assert piece.ids == b"".join(xxh3_128_digest(i) for i in (b"r1", b"r2", b"r3"))
    assert piece.starts.tolist() == [100, 119, 128] and piece.ends.tolist() == [119, 128, 147]
    assert piece.stats.tolist() == [[4, 4, 4], [2, 3, 0], [4, 4, 0]]


def test_copy_ranges_copies_exactly_the_kept_bytes(tmp_path):
    """The output writer reads the input in windows; any window size gives the same bytes."""
    import io

    from enhancer_tools.dataset.dedup import _copy_ranges

    data = random.Random(1).randbytes(20000)
    path = tmp_path / "in.bin"
    path.write_bytes(data)
    for trial in range(200):
        r = random.Random(trial)
        cuts = sorted({r.randrange(1, len(data)) for _ in range(r.randrange(1, 40))} | {0, len(data)})
        starts, ends = np.array(cuts[:-1]), np.array(cuts[1:])
        mask = np.array([r.random() < 0.6 for _ in starts])
        out = io.BytesIO()
        _copy_ranges(path, starts, ends, mask, out, window=r.choice([7, 100, 1000, 1 << 20]))
        assert out.getvalue() == b"".join(data[a:b] for a, b, m in zip(cuts, cuts[1:], mask) if m), trial
