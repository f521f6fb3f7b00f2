"""BackgroundWriter: order kept, errors from the writer thread reach the caller, files closed."""

import pytest

from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.background_writer import BackgroundWriter


def test_writes_in_order_and_flush_waits(tmp_path):
    path = tmp_path / "out.bin"
    with BackgroundWriter(open(path, "wb"), depth=1) as fh:
        for i in range(200):
            fh.write(b"%d\n" % i)
        fh.flush()
        assert path.read_bytes().count(b"\n") == 200
        fh.write(b"end\n")
    assert path.read_bytes() == b"".join(b"%d\n" % i for i in range(200)) + b"end\n"


class FailingFile:
    def __init__(self):
        self.closed = False

    def write(self, data):
        raise OSError(28, "No space left on device")

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_error_in_thread_is_raised_and_file_closed():
    raw = FailingFile()
    fh = BackgroundWriter(raw)
    fh.write(b"x")
    with pytest.raises(OSError, match="No space left"):
        for _ in range(10):
            fh.write(b"y")
        fh.close()
    fh.close()
    assert raw.closed


def test_atomic_outputs_background_file_is_renamed_on_commit_and_removed_on_error(tmp_path):
    with AtomicOutputs() as out:
        fh = out.open(tmp_path / "a.fa", "wb", background=True)
        fh.write(b">a\nACGT\n")
    assert (tmp_path / "a.fa").read_bytes() == b">a\nACGT\n"
    with pytest.raises(RuntimeError), AtomicOutputs() as out:
        fh = out.open(tmp_path / "b.fa", "wb", background=True)
        fh.write(b">b\nACGT\n")
        raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.fa"]
