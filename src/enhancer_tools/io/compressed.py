"""Open plain, gzip or bgzip files by content, not by name."""

from __future__ import annotations

import gzip
import io
import os

from enhancer_tools.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    """True when the file starts with the gzip magic bytes (gzip and bgzip alike)."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: str | os.PathLike):
    """Open ``path`` for reading bytes, decompressing gzip/bgzip transparently.

    Raises UserError when the file is missing, a folder, or unreadable.
    """
    try:
        if os.path.isdir(path):
            raise UserError("is a folder, not a file", path)
        if is_gzip(path):
            return io.BufferedReader(gzip.open(path, "rb"), buffer_size=1 << 20)
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise UserError("file not found", path) from None
    except PermissionError:
        raise UserError("permission denied", path) from None
