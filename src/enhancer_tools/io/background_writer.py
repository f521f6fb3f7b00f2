"""A binary file writer whose ``write`` returns at once while a thread does the writing.

Tools that build large outputs in numpy blocks (a million windows, two million records) spend
a third of their time inside ``write``: the kernel copying into the page cache and allocating
blocks. ``write`` releases the GIL, so a writer thread lets the next block be built on the
other core meanwhile. A bounded queue keeps at most ``depth`` blocks in memory.
"""

from __future__ import annotations

import queue
import threading
from typing import BinaryIO

_STOP = None


class BackgroundWriter:
    """Wraps an open binary file; ``write`` queues, a thread writes in order.

    An error in the thread is raised by the next ``write``/``flush``/``close``. ``close`` waits
    for the queue to drain and closes the file (also after an error, so a caller's cleanup can
    delete it).
    """

    def __init__(self, fh: BinaryIO, depth: int = 2) -> None:
        self._fh = fh
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None  # raised once, in the caller's thread
        self._failed = False  # after an error nothing more is written
        self._thread = threading.Thread(target=self._run, name="background-writer", daemon=True)
        self._thread.start()
        self.closed = False
        self.name = getattr(fh, "name", None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if not self._failed:
                    self._fh.write(item)
            except BaseException as exc:  # kept for the caller's thread
                self._error, self._failed = exc, True
            finally:
                self._queue.task_done()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, data: bytes) -> int:
        """Queue ``data`` (bytes, not a buffer that will change) for writing; returns its length."""
        self._raise_pending()
        if data:
            self._queue.put(data)
        return len(data)

    def flush(self) -> None:
        """Wait until everything queued so far is written."""
        self._queue.join()
        self._raise_pending()
        self._fh.flush()

    def close(self) -> None:
        """Write what is queued, close the file, and raise any error the thread met."""
        if self.closed:
            return
        self.closed = True
        try:
            self._queue.put(_STOP)
            self._thread.join()
        finally:
            self._fh.close()
        self._raise_pending()

    def __enter__(self) -> "BackgroundWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
