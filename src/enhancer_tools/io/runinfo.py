"""Run-info JSON: what a tool did, with which parameters, on which inputs, with which
versions. Every tool writes one with ``--json PATH``; ``report`` and MultiQC read them."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import sys
import time
from importlib import metadata
from typing import Any

from enhancer_tools import __version__
from enhancer_tools.io.atomic import atomic_open

SCHEMA_VERSION = 1
_VERSIONED_PACKAGES = ("click", "numpy", "pysam", "pybedtools", "torch", "tokenizers", "transformers", "optuna", "scikit-learn")


def sha256_file(path: str | os.PathLike, block: int = 1 << 22) -> str:
    """Hex sha256 of a file's bytes (as stored: a gzip file's compressed bytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def package_versions(names=_VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of the packages that shape results, read without importing them."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


class RunInfo:
    """Collects a tool run's facts; ``write`` emits them as JSON.

    Tools fill ``counts`` (what they read, wrote, rejected) and may put larger structures
    (histograms, metrics) in ``extra``; ``inputs`` maps a role to a path and gets checksummed
    at write time.
    """

    def __init__(self, tool: str, params: dict[str, Any] | None = None) -> None:
        self.tool = tool
        self.params = dict(params or {})
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.counts: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.started = time.time()
        self.started_iso = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    def add_input(self, role: str, path: str | os.PathLike | list | None) -> None:
        """Record an input file (or list of files) under ``role``."""
        if path is not None:
            self.inputs[role] = [os.fspath(p) for p in path] if isinstance(path, (list, tuple)) else os.fspath(path)

    def as_dict(self, checksums: bool = True) -> dict[str, Any]:
        """The run info as a JSON-ready dict."""

        def describe(p: str) -> dict[str, Any]:
            entry: dict[str, Any] = {"path": p}
            if checksums and os.path.isfile(p):
                entry["sha256"] = sha256_file(p)
                entry["bytes"] = os.path.getsize(p)
            return entry

        inputs = {
            role: [describe(p) for p in v] if isinstance(v, list) else describe(v) for role, v in self.inputs.items()
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": self.tool,
            "version": __version__,
            "command_line": [os.path.basename(sys.argv[0])] + sys.argv[1:],
            "parameters": jsonable(self.params),
            "inputs": inputs,
            "outputs": jsonable(self.outputs),
            "counts": jsonable(self.counts),
            **jsonable(self.extra),
            "started": self.started_iso,
            "elapsed_seconds": round(time.time() - self.started, 3),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "versions": package_versions(),
        }

    def write(self, path: str | os.PathLike) -> None:
        """Write the JSON atomically."""
        data = self.as_dict()
        with atomic_open(path) as fh:
            json.dump(data, fh, indent=2, allow_nan=False)
            fh.write("\n")


def jsonable(value: Any) -> Any:
    """``value`` as strict-JSON data: mappings with string keys, lists for any sequence or set,
    None for NaN and infinities, paths as text, numpy/torch values via ``tolist``, anything
    else as ``str``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # strict JSON has no NaN/Infinity
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy / torch scalars and arrays
        return jsonable(value.tolist())
    return str(value)
