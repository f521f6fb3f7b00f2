"""io.prefetch: items in order, an error in the producer raised in the caller, and the producer
stopped when the caller stops early."""

import threading

import pytest

from enhancer_tools.io.prefetch import prefetch


def test_items_come_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_a_producer_error_reaches_the_caller_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad record")

    got = []
    with pytest.raises(ValueError, match="bad record"):
        for item in prefetch(items(), depth=1):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_producer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = prefetch(items(), depth=2, name="test-prefetch")
    assert next(stream) == 0
    stream.close()
    assert not any(t.name == "test-prefetch" for t in threading.enumerate())
    assert len(produced) < 10
