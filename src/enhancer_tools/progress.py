"""Progress bars on stderr: shown only when stderr is a terminal and the tool is not --quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (or allow) progress bars for the rest of the process."""
    global _quiet
    _quiet = quiet


def progress_enabled() -> bool:
    """True when a progress bar would be drawn."""
    return not _quiet and sys.stderr.isatty()


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr when enabled; otherwise return it unchanged."""
    if not progress_enabled():
        return iter(iterable)
    from tqdm import tqdm

    return iter(tqdm(iterable, desc=desc, total=total, unit=unit, unit_scale=True, leave=False, file=sys.stderr))
