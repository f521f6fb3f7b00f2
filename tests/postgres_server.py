"""A throwaway PostgreSQL server for tests: a new cluster in a temporary folder, listening only on
a Unix socket in that folder, stopped and removed afterwards.

Needs Debian's ``postgresql`` package (``make system-deps`` installs it) and a Python driver
(the ``postgres`` extra: psycopg). initdb and postgres refuse to run as root, so as root the
server runs as the ``postgres`` system user that the package creates (``runuser``); as any other
user it runs as that user. Where something is missing the tests are skipped, except in CI
(``CI`` set), where they fail: CI installs all of it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason} (`make system-deps` and the `postgres` extra "
                    "install what they need)", pytrace=False)
    pytest.skip(reason)


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: _version_key(p.split("/")[-3]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


@contextlib.contextmanager
def postgres_server(dbname: str = "optuna") -> Iterator[str]:
    """Start a server, create ``dbname`` and yield its SQLAlchemy URL
    (``postgresql://postgres@/DBNAME?host=SOCKET_DIR``); stop the server and remove its folder at the end."""
    bindir = _bin_dir()
    if bindir is None:
        _unavailable("PostgreSQL's initdb not found (Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401  (the driver SQLAlchemy uses for postgresql:// URLs)
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[postgres]')")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        runuser = shutil.which("runuser")
        if runuser is None:
            _unavailable("running as root and runuser is not available to start the server as 'postgres'")
        prefix = [runuser, "-u", "postgres", "--"]
    # Under /tmp rather than pytest's tmp_path: the server's user must reach the folder, and a
    # Unix socket path is limited to about 100 characters.
    folder = tempfile.mkdtemp(prefix="enhancer-pg-")
    data, logfile = os.path.join(folder, "data"), os.path.join(folder, "server.log")
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)

    def as_server_user(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + list(args), cwd=folder, check=check, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)

    started = False
    try:
        try:
            as_server_user(os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                           "--no-sync")
            options = f"-c listen_addresses='' -c unix_socket_directories={folder} -c fsync=off -c max_connections=50"
            started = True
            as_server_user(os.path.join(bindir, "pg_ctl"), "-D", data, "-l", logfile, "-w", "-t", "60", "-s",
                           "-o", options, "start")
            as_server_user(os.path.join(bindir, "createdb"), "-h", folder, "-U", "postgres", dbname)
        except subprocess.CalledProcessError as exc:
            log = ""
            with contextlib.suppress(OSError):
                with open(logfile, encoding="utf-8", errors="replace") as fh:
                    log = fh.read()[-3000:]
            raise RuntimeError(f"cannot start PostgreSQL: {exc.cmd} exited {exc.returncode}:\n{exc.stdout}{exc.stderr}"
                               f"\nserver log:\n{log}") from None
        yield f"postgresql://postgres@/{dbname}?host={folder}"
    finally:
        if started:
            stop = as_server_user(os.path.join(bindir, "pg_ctl"), "-D", data, "-w", "-t", "60", "-s", "-m", "fast",
                                  "stop", check=False)
            if stop.returncode != 0 and os.path.exists(os.path.join(data, "postmaster.pid")):
                as_server_user(os.path.join(bindir, "pg_ctl"), "-D", data, "-s", "-m", "immediate", "stop", check=False)
        shutil.rmtree(folder, ignore_errors=True)
