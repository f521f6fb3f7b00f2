"""Unpack a model-directory zip (how models travel between Galaxy tools) safely.

``unpack_model_archive(zip_path, dest_dir)`` extracts an archive holding exactly one model
directory (a folder with ``config.json``: our layout adds ``model.json``; a plain Hugging Face
DNABERT-2 folder has config.json, weights and tokenizer.json) and returns that directory's path.
The model directory may be the archive root or one top folder (the wrappers zip ``model/``).

Refused with a one-line :class:`~enhancer_tools.errors.UserError`, from the central directory
before anything is written: not a zip or a corrupt one; more than ``max_members``
members; more than ``max_total_bytes`` declared uncompressed; symbolic links and other
non-regular members; absolute names, ``..`` components, backslashes, drive letters, control
characters; duplicate names; encrypted members; anything but exactly one model directory (an
ensemble's members, model folders in its ``members/`` folder, are part of it).
While extracting, member bytes are streamed with a running count, so a member that expands past
its declared size or past the total limit is refused too (lying headers, zip bombs).

Files and folders are created with plain ``open``/``os.makedirs`` (the user's umask; the
archive's permission bits and times are ignored). The destination must be absent or empty and
nothing outside it is written; on any error what was extracted is removed again.

``python -m enhancer_tools.io.model_archive ZIP DEST`` (console script
``enhancer-unpack-model``, used by the Galaxy wrappers' ``@UNPACK_MODEL@`` macro) prints the
model directory on stdout; exit 2 with ``Error: ...`` on stderr for a refused archive.
This module imports nothing heavy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import stat
import sys
import zipfile
import zlib

from enhancer_tools.errors import UserError

# A model folder holds a handful of files (our layout 6, a Hugging Face DNABERT-2 folder ~10).
DEFAULT_MAX_MEMBERS = 1_000
# DNABERT-2-117M weights are ~470 MB; 20 GiB leaves room for far larger checkpoints while still
# stopping a zip bomb before it fills a job's disk.
DEFAULT_MAX_TOTAL_BYTES = 20 * 1024**3
MODEL_MARKER = "config.json"
ENSEMBLE_MEMBERS = "members"  # an ensemble's model folders inside it (models.ensemble.MEMBERS_FOLDER)
# Folders some zip tools add beside the content (macOS Finder's resource forks): not extracted.
IGNORED_TOP_FOLDERS = ("__MACOSX",)
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPECIAL_TYPES = {stat.S_IFLNK: "a symbolic link", stat.S_IFCHR: "a character device",
                  stat.S_IFBLK: "a block device", stat.S_IFIFO: "a named pipe",
                  stat.S_IFSOCK: "a socket"}


def _show(name: str) -> str:
    """A member name for a one-line message: quoted, control characters escaped, not too long."""
    shown = repr(name)
    return shown if len(shown) <= 120 else shown[:100] + "...'"


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n:,} bytes"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _member_parts(info: zipfile.ZipInfo, zip_path: str) -> tuple[str, ...]:
    """The member's path components after the safety checks (``.`` components dropped)."""
    raw = info.orig_filename
    name = info.filename
    if not name or not raw:
        raise UserError("holds a member with an empty name; re-create the archive", zip_path)
    if _CONTROL.search(raw) or _CONTROL.search(name):
        raise UserError(f"member {_show(raw)} has control characters in its name; "
                        "re-create the archive with plain file names", zip_path)
    if "\\" in raw:
        raise UserError(f"member {_show(raw)} contains a backslash; re-create the archive with a "
                        "zip tool that writes '/' separators", zip_path)
    if name.startswith("/"):
        raise UserError(f"member {_show(raw)} has an absolute path; re-create the archive with "
                        "relative paths (zip the model folder from its parent folder)", zip_path)
    if _DRIVE.match(name):
        raise UserError(f"member {_show(raw)} starts with a drive letter; re-create the archive "
                        "with relative paths", zip_path)
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if ".." in parts:
        raise UserError(f"member {_show(raw)} has a '..' component that points outside the "
                        "archive; re-create the archive with plain relative paths", zip_path)
    if "" in parts:
        raise UserError(f"member {_show(raw)} has an empty path component ('//'); re-create "
                        "the archive", zip_path)
    return tuple(p for p in parts if p != ".")  # () for "./", the root itself


def _check_member_type(info: zipfile.ZipInfo, zip_path: str) -> None:
    if info.flag_bits & 0x1:
        raise UserError(f"member {_show(info.filename)} is encrypted; zip the model without a "
                        "password", zip_path)
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind in _SPECIAL_TYPES:
        hint = ("zip the files the links point to (zip without --symlinks)" if kind == stat.S_IFLNK
                else "zip the model's regular files only")
        raise UserError(f"member {_show(info.filename)} is {_SPECIAL_TYPES[kind]}, not a file; "
                        f"{hint}", zip_path)


def _declared_member_count(path: str) -> int | None:
    """Members announced by the end-of-central-directory record, read before ZipFile parses
    (and holds in memory) the whole central directory; None when it cannot be read here
    (ZipFile then reports what is wrong)."""
    find_end = getattr(zipfile, "_EndRecData", None)  # private; present in 3.10-3.13
    index = getattr(zipfile, "_ECD_ENTRIES_TOTAL", None)
    if find_end is None or index is None:
        return None
    try:
        with open(path, "rb") as fh:
            end = find_end(fh)
    except (OSError, zipfile.BadZipFile, ValueError, IndexError):
        return None
    return None if end is None else int(end[index])


def _is_ensemble_member(folder: tuple[str, ...], model_dirs: list[tuple[str, ...]]) -> bool:
    """Whether ``folder`` is ``<model>/members/<member>`` of another model folder: the members an
    ensemble model (model-ensemble) carries inside it, part of that one model."""
    return (len(folder) >= 2 and folder[-2] == ENSEMBLE_MEMBERS
            and any(folder[:-2] == other for other in model_dirs))


def _plan(zf: zipfile.ZipFile, zip_path: str, max_members: int, max_total_bytes: int):
    """Check the central directory; return (members to extract as (info, parts), model parts)."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise UserError(f"holds {len(infos):,} members, more than the limit of {max_members:,}; "
                        "zip only the model folder", zip_path)
    declared = sum(info.file_size for info in infos)
    if declared > max_total_bytes:
        raise UserError(f"declares {_size(declared)} uncompressed, more than the limit of "
                        f"{_size(max_total_bytes)}; zip only the model folder", zip_path)
    members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    files: dict[tuple[str, ...], str] = {}
    dirs: dict[tuple[str, ...], str] = {}
    for info in infos:
        parts = _member_parts(info, zip_path)
        _check_member_type(info, zip_path)
        if not parts:
            continue
        if parts[0] in IGNORED_TOP_FOLDERS:
            continue
        is_dir = info.is_dir()
        if parts in files or (not is_dir and parts in dirs):
            raise UserError(f"member {_show(info.filename)} appears more than once; re-create "
                            "the archive", zip_path)
        (dirs if is_dir else files)[parts] = info.filename
        members.append((info, parts))
    # A file may not also be a folder of other members.
    for parts, name in files.items():
        if parts in dirs:
            raise UserError(f"member {_show(name)} is both a file and a folder; re-create the "
                            "archive", zip_path)
    for parts in list(files) + list(dirs):
        for depth in range(1, len(parts)):
            if parts[:depth] in files:
                raise UserError(f"member {_show(files[parts[:depth]])} is a file but other "
                                "members lie inside it; re-create the archive", zip_path)
    model_dirs = sorted(parts[:-1] for parts in files if parts[-1] == MODEL_MARKER)
    model_dirs = [d for d in model_dirs if not _is_ensemble_member(d, model_dirs)]
    if not model_dirs:
        raise UserError(f"holds no {MODEL_MARKER}, so no model folder; give the zip a training "
                        "tool wrote, or zip a model folder (model.json, config.json, weights) "
                        "or a Hugging Face DNABERT-2 folder", zip_path)
    if len(model_dirs) > 1:
        shown = ", ".join("/".join(d) + "/" if d else "(archive root)" for d in model_dirs[:5])
        more = f" and {len(model_dirs) - 5} more" if len(model_dirs) > 5 else ""
        raise UserError(f"holds {len(model_dirs)} model folders ({shown}{more}, each with "
                        f"{MODEL_MARKER}); zip exactly one model folder", zip_path)
    (model,) = model_dirs
    if len(model) > 1:
        raise UserError(f"its model folder {'/'.join(model)}/ lies more than one folder deep; "
                        f"zip the model folder itself ({MODEL_MARKER} at the top or in one "
                        "folder)", zip_path)
    if model:
        outside = sorted("/".join(p) for p in list(files) + list(dirs) if p[0] != model[0])
        if outside:
            raise UserError(f"holds {_show(outside[0])} beside the model folder {model[0]}/; "
                            "zip the model folder alone", zip_path)
    return members, model


def _copy_limited(src, dst, declared: int, budget: int, name: str, zip_path: str) -> int:
    """Copy ``src`` to ``dst`` in chunks; refuse more bytes than ``declared`` for this member
    or than ``budget`` left of the total limit. Returns the bytes copied."""
    copied = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return copied
        copied += len(chunk)
        if copied > declared:
            raise UserError(f"member {_show(name)} expands to more than the {declared:,} bytes its "
                            "header declares; the archive is corrupt or malicious, re-create it",
                            zip_path)
        if copied > budget:
            raise UserError(f"expands past the limit on unpacked size while extracting "
                            f"{_show(name)}; zip only the model folder", zip_path)
        dst.write(chunk)


def _clear(dest: str, created: bool) -> None:
    """Remove what was extracted into ``dest`` (and ``dest`` itself when this call made it)."""
    if not os.path.isdir(dest):
        return
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for entry in os.listdir(dest):
        path = os.path.join(dest, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def _prepare_dest(dest: str) -> bool:
    """Make sure ``dest`` is a new or empty folder; True when it was created here."""
    if os.path.lexists(dest):
        if not os.path.isdir(dest):
            raise UserError("exists and is not a folder; unpack into a new or empty folder", dest)
        if os.listdir(dest):
            raise UserError("is not empty; unpack into a new or empty folder", dest)
        return False
    try:
        os.makedirs(dest)
    except OSError as exc:
        raise UserError(f"cannot create the folder: {exc.strerror or exc}", dest) from exc
    return True


def unpack_model_archive(zip_path: str | os.PathLike, dest_dir: str | os.PathLike, *,
                         max_members: int = DEFAULT_MAX_MEMBERS,
                         max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> str:
    """Extract the one model directory in ``zip_path`` into ``dest_dir``; return its path
    (``dest_dir`` itself or ``dest_dir/<top folder>``). See the module docstring for what is
    refused; on any error nothing extracted remains."""
    zip_path = os.fspath(zip_path)
    dest = os.fspath(dest_dir)
    if not os.path.isfile(zip_path):
        raise UserError("no such file" if not os.path.lexists(zip_path) else "is not a file",
                        zip_path)
    count = _declared_member_count(zip_path)
    if count is not None and count > max_members:
        raise UserError(f"holds {count:,} members, more than the limit of {max_members:,}; "
                        "zip only the model folder", zip_path)
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise UserError(f"is not a zip archive or is corrupt ({_one_line(exc)}); give the zip a "
                        "training tool wrote, or zip the model folder", zip_path) from exc
    except (OSError, EOFError, ValueError, zipfile.LargeZipFile) as exc:
        raise UserError(f"cannot be read as a zip archive ({_one_line(exc)}); re-create or "
                        "re-upload it", zip_path) from exc
    with zf:
        members, model = _plan(zf, zip_path, max_members, max_total_bytes)
        created = _prepare_dest(dest)
        try:
            _extract(zf, members, dest, zip_path, max_total_bytes)
        except BaseException:
            _clear(dest, created)
            raise
    return os.path.join(dest, *model) if model else dest


def _extract(zf: zipfile.ZipFile, members, dest: str, zip_path: str, max_total_bytes: int) -> None:
    root = os.path.realpath(dest)
    written = 0
    for info, parts in members:
        target = os.path.join(dest, *parts)
        # Belt and braces: the name checks already keep every path inside dest.
        real = os.path.realpath(target)
        if real != root and not real.startswith(root + os.sep):
            raise UserError(f"member {_show(info.filename)} would be written outside the "
                            "destination; re-create the archive", zip_path)
        try:
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "xb") as dst:
                written += _copy_limited(src, dst, info.file_size, max_total_bytes - written,
                                         info.filename, zip_path)
        except UserError:
            raise
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError) as exc:
            raise UserError(f"member {_show(info.filename)} is corrupt ({_one_line(exc)}); "
                            "re-create or re-upload the archive", zip_path) from exc
        except (NotImplementedError, RuntimeError) as exc:  # compression method, encryption
            raise UserError(f"member {_show(info.filename)} cannot be unpacked "
                            f"({_one_line(exc)}); zip the model with plain deflate", zip_path) from exc
        except OSError as exc:
            where = exc.filename if exc.filename else target
            raise UserError(f"cannot write {where}: {exc.strerror or _one_line(exc)}; check the "
                            "free space of the destination", zip_path) from exc


def _sigterm_to_interrupt(signum, frame):  # Galaxy stops jobs with SIGTERM: clean up first
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``enhancer-unpack-model ZIP DEST``: print the model directory; exit 2 on a refused
    archive (one line on stderr), 1 on an internal error, 130 when interrupted."""
    from enhancer_tools import __version__

    parser = argparse.ArgumentParser(
        prog="enhancer-unpack-model",
        description="Safely unpack a zipped model directory (one folder with config.json) and "
                    "print its path. Used by the Galaxy wrappers.",
        epilog="Exit codes: 0 success; 2 refused archive or bad options (one-line message on "
               "stderr); 1 internal error; 130 interrupted.")
    parser.add_argument("zip", help="the model zip")
    parser.add_argument("dest", help="folder to unpack into (created; must be absent or empty)")
    parser.add_argument("--max-members", type=int, default=DEFAULT_MAX_MEMBERS, metavar="N",
                        help=f"refuse archives with more members (default {DEFAULT_MAX_MEMBERS:,})")
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_TOTAL_BYTES, metavar="N",
                        help="refuse archives that unpack to more bytes (default "
                             f"{DEFAULT_MAX_TOTAL_BYTES:,} = {_size(DEFAULT_MAX_TOTAL_BYTES)})")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    except ValueError:  # not the main thread (embedded use)
        previous = None
    try:
        if args.max_members < 1 or args.max_bytes < 1:
            raise UserError("--max-members and --max-bytes must be at least 1")
        model_dir = unpack_model_archive(args.zip, args.dest, max_members=args.max_members,
                                         max_total_bytes=args.max_bytes)
    except UserError as exc:
        print(f"Error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; nothing was unpacked.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, no traceback
        print(f"Internal error: {type(exc).__name__}: {_one_line(exc)} (please report it)",
              file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
