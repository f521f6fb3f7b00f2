"""The rules for a tool's output folder (a model directory, a report folder): a tool may refuse,
but it never removes what the user did not ask it to write.

- An input of the run may not lie inside the output folder or its ``.work`` folder.
- An existing ``.work`` folder must hold only what the trainers put there (checkpoints, caches,
  trials): a finished run removes it, so a folder of the user's that happens to have that name
  is refused instead.
- An existing, non-empty folder is replaced only when it is an earlier output of the same kind
  (``is_ours``) and the user gave ``--force``; the replacement keeps the old folder until the new
  one is complete (``AtomicOutputs.directory(..., replace=True)``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from enhancer_tools.errors import UserError

WORK_SUFFIX = ".work"
# What the trainers write in a .work folder: a checkpoint, token caches, a study's trials and lock.
_WORK_ENTRIES = ("checkpoint", "cache", "trials", ".output.lock")


def work_folder(output: str | os.PathLike) -> str:
    """The folder beside ``output`` that holds checkpoints and caches while a tool runs."""
    return os.path.abspath(output) + WORK_SUFFIX


def _inputs(paths: Iterable) -> Iterable[str]:
    for p in paths:
        if p is None:
            continue
        if isinstance(p, (list, tuple)):
            yield from _inputs(p)
        else:
            yield os.fspath(p)


def check_output_folder(output: str | os.PathLike, inputs: Iterable, *, force: bool, is_ours: Callable[[Path], bool],
                        what: str) -> None:
    """Raise UserError unless writing ``what`` to the folder ``output`` loses nothing.

    ``inputs``: every file or folder the run reads (None entries and nested lists allowed);
    ``is_ours(folder)``: whether an existing folder is an earlier output of this kind.
    """
    out = Path(output).resolve()
    for inp in _inputs(inputs):
        resolved = Path(inp).resolve()
        for folder in (out, Path(str(out) + WORK_SUFFIX)):
            if resolved == folder or folder in resolved.parents:
                raise UserError(f"the input {inp} lies inside the output folder {folder}, which this run writes; "
                                "choose another -o folder", output)
    _check_work_folder(Path(str(out) + WORK_SUFFIX), output)
    if out.exists() and not out.is_dir():
        raise UserError("-o must name a folder, and a file of that name exists; choose another -o folder", output)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_ours(out):
        raise UserError(f"the folder exists, is not empty and is not a {what} written by enhancer-tools: it is never "
                        "replaced; choose a new -o folder", output)
    if not force:
        raise UserError(f"the folder holds an earlier {what}, which is never replaced without --force (with "
                        "--force the old one is kept until the new one is complete)", output)


def _check_work_folder(work: Path, output) -> None:
    """UserError unless ``work`` is absent or holds only what a trainer writes there."""
    if not work.exists():
        return
    foreign = [] if work.is_dir() else [work.name]
    if work.is_dir():
        foreign = [p.name for p in work.iterdir() if p.name not in _WORK_ENTRIES and not p.name.startswith("trial-")]
    if foreign:
        raise UserError(f"{work} exists and holds {', '.join(sorted(foreign)[:3])}, which no enhancer-tools run "
                        "wrote there; a finished run removes that folder, so it is never used: move it or choose "
                        "another -o folder", output)
