"""Compute the next items of a stream in a background thread while the caller works on the
current one: score-regions and score-variants encode the next batch while the model runs,
dnabert2-pretrain reads and masks the next batch while it trains."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator


def prefetch(items: Iterable, depth: int = 4, name: str = "prefetch") -> Iterator:
    """The items of ``items``, produced by a background thread at most ``depth`` ahead, in order.

    An exception in the thread is raised here, in the caller; when the caller stops early (an
    error, a break, Ctrl-C), the thread stops too and is joined."""
    pending: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end, failure = object(), []

    def put(item) -> None:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                put(item)
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, which re-raises it)
            failure.append(exc)
        put(end)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        while (item := pending.get()) is not end:
            yield item
        if failure:
            raise failure[0]
    finally:
        stop.set()
        worker.join()
