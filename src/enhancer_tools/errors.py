"""The one exception type for problems the user can fix (bad input, bad options)."""

from __future__ import annotations

import os


class UserError(Exception):
    """A problem with the user's input or options, reported without a traceback.

    Printed by every CLI as ``Error: <file>:<line>: <message>`` (the file and line parts only
    when known) with exit code 2.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class CheckFailed(UserError):
    """A check the user asked to fail on (``--strict``) found a problem. The tool ran to the end,
    so its run info (``--json``) is still written before the exit with code 2."""
