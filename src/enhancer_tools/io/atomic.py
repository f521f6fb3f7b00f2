"""Atomic output: every file is written to a temporary name in its target folder and renamed
into place only when the whole tool succeeded, so an error or Ctrl-C leaves nothing behind."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

from enhancer_tools.errors import UserError


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def refuse_overwriting_inputs(outputs, inputs) -> None:
    """Raise UserError when an output path names one of the inputs."""
    for out in outputs:
        if out is None or not os.path.exists(out):
            continue
        for inp in inputs:
            if inp is not None and os.path.exists(inp) and _same_file(out, inp):
                raise UserError(f"output would overwrite the input {inp}; choose another name", out)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _commit_directory(tmp: str, final: str, replace: bool) -> None:
    """Rename the finished folder ``tmp`` to ``final`` (see ``AtomicOutputs.directory``)."""
    if replace and os.path.isdir(final) and os.listdir(final):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(final)}.old.", dir=os.path.dirname(os.path.abspath(final)))
        os.replace(final, os.path.join(old, "x"))
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.replace(tmp, final)  # over an empty folder, or to a new name; a non-empty folder stays
    except OSError as exc:
        raise UserError(f"cannot write the output folder: {exc.strerror}; it was not replaced (another process "
                        "may have written it while this one ran)", final) from None


class AtomicOutputs:
    """A set of output files committed together.

    >>> with AtomicOutputs() as out:
    ...     fa = out.open("windows.fa")
    ...     fa.write(">a\\nACGT\\n")

    On a clean exit every temporary file is closed and renamed to its final name; on any
    exception (KeyboardInterrupt and SystemExit included) all of them are removed. A name
    ending in ``.gz`` is written gzip-compressed.
    """

    def __init__(self) -> None:
        self._files: list[tuple[IO, str, str]] = []
        self._dirs: list[tuple[str, str, bool]] = []

    def _temp_file(self, path: str) -> tuple[int, str]:
        """A new empty temporary file next to ``path``: (open descriptor, name)."""
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UserError("output folder does not exist", folder)
        return tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)

    def open(self, path: str | os.PathLike, mode: str = "w", newline: str | None = "\n", background: bool = False) -> IO:
        """Open a temporary stand-in for ``path``; text mode by default ('wb' for bytes).

        ``background`` (binary modes): writes happen in a thread (``BackgroundWriter``), for
        tools that write large blocks while computing the next one."""
        path = os.fspath(path)
        fd, tmp = self._temp_file(path)
        if path.endswith(".gz"):
            os.close(fd)
            fh = gzip.open(tmp, mode if "b" in mode else "wt", **({} if "b" in mode else {"newline": newline}))
        else:
            # Written through mkstemp's descriptor: reopening by name with O_TRUNC would make ext4
            # flush the whole file to disk on close (auto_da_alloc), seconds for a 2 GB output.
            raw = os.fdopen(fd, "wb", buffering=0)
            if "b" in mode:
                fh = io.BufferedWriter(raw)
            else:
                fh = io.TextIOWrapper(io.BufferedWriter(raw, 1 << 20), encoding="utf-8", newline=newline)
        if background and "b" in mode:
            from enhancer_tools.io.background_writer import BackgroundWriter

            fh = BackgroundWriter(fh)
        self._files.append((fh, tmp, path))
        return fh

    def reopen(self, path: str | os.PathLike, mode: str = "w", background: bool = False) -> IO:
        """Drop what was written for ``path`` so far and open a fresh stand-in for it."""
        path = os.fspath(path)
        for entry in [e for e in self._files if e[2] == path]:
            fh, tmp, _ = entry
            with contextlib.suppress(Exception):
                if fh is not None:
                    fh.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            self._files.remove(entry)
        return self.open(path, mode, background=background)

    def temp_name(self, path: str | os.PathLike) -> str:
        """The temporary file standing in for ``path`` (opened earlier), to read it back before commit."""
        path = os.fspath(path)
        return next(tmp for _, tmp, final in self._files if final == path)

    def path(self, path: str | os.PathLike) -> str:
        """A temporary file name for a library that writes by name; renamed to ``path`` on commit."""
        path = os.fspath(path)
        fd, tmp = self._temp_file(path)
        os.close(fd)
        self._files.append((None, tmp, path))
        return tmp

    def directory(self, path: str | os.PathLike, replace: bool = False) -> str:
        """A temporary folder next to ``path``, renamed to ``path`` on commit.

        An existing empty folder at ``path`` is replaced; a non-empty one only with ``replace``
        (the caller checked it is an earlier output: see ``io.output_folder``), and then it is
        renamed aside and removed only after the new folder is in place. Without ``replace`` a
        folder that filled up while the tool ran makes the commit fail; nothing is lost."""
        path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise UserError("output folder's parent does not exist", parent)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
        self._dirs.append((tmp, path, replace))
        return tmp

    def __enter__(self) -> "AtomicOutputs":
        return self

    def commit(self) -> None:
        """Close every temporary file and rename it into place."""
        for fh, _, _ in self._files:
            if fh is not None and not fh.closed:
                fh.close()
        mask = _umask()
        for _, tmp, final in self._files:
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600 becomes what open() would have made
            # Renaming over an existing file makes ext4 write the new one to disk first
            # (auto_da_alloc: seconds for a 2 GB output); the old one is removed instead. The
            # final name never holds a partial file either way.
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                if not os.path.isdir(final):
                    os.unlink(final)
            os.replace(tmp, final)
        for tmp, final, replace in self._dirs:
            os.chmod(tmp, 0o777 & ~mask)
            _commit_directory(tmp, final, replace)
        self._files, self._dirs = [], []

    def discard(self) -> None:
        """Close and delete every temporary file and folder."""
        for fh, tmp, _ in self._files:
            with contextlib.suppress(Exception):
                if fh is not None:
                    fh.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for tmp, _, _ in self._dirs:
            shutil.rmtree(tmp, ignore_errors=True)
        self._files, self._dirs = [], []

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open one output file atomically (see AtomicOutputs)."""
    with AtomicOutputs() as out:
        yield out.open(path, mode)
