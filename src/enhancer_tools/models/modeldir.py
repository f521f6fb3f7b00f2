"""The one model-directory layout shared by every model kind: its file names, the one writer,
and the readers of its parts. Which kind a directory holds, and how to load it, is the
registry's business (``models.registry``).

```
MODEL_DIR/
  model.json         {"kind": "dnabert2"|"enhancernet"|"kmer"|..., "format_version": 1,
                      "window": {"width": W, "edge": ...} | null, "max_tokens": L | null, ...}
  config.json        architecture (dnabert2: the real DNABERT-2 keys)
  model.safetensors  weights (kmer: coefficients); never a pickle
  tokenizer.json     dnabert2 only
  calibration.json   {"temperature": T, "threshold": X, "chosen_on": "validation"}
  provenance.json    package version, training data sha256, training arguments, metrics
```

A plain Hugging Face DNABERT-2 folder (config.json + weights + tokenizer.json, no model.json)
is read as kind dnabert2 with temperature 1 and threshold 0.5; ``save_model_dir(kind=None)``
writes one (a masked-LM checkpoint, say). Model directories written before ``max_tokens`` had
its name recorded the token limit of a DNABERT-2 model as ``max_length``; it is still read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from collections.abc import Mapping
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.metrics.calibration import Calibration

FORMAT_VERSION = 1
MODEL_JSON, CONFIG_JSON, WEIGHTS, TOKENIZER_JSON = "model.json", "config.json", "model.safetensors", "tokenizer.json"
CALIBRATION_JSON, PROVENANCE_JSON = "calibration.json", "provenance.json"
PICKLE_WEIGHTS = "pytorch_model.bin"  # released Hugging Face checkpoints; read with weights_only=True


def write_json(path: str, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN and numpy values made JSON-ready)."""
    from enhancer_tools.io.runinfo import jsonable

    with open(path, "w", encoding="utf-8") as fh:
        json.dump(jsonable(data), fh, indent=2)
        fh.write("\n")


def read_json(path: str) -> Any:
    """Read a JSON file of a model directory; UserError naming the file when it is not JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise UserError(f"not valid JSON: {exc.msg} (line {exc.lineno})", path) from None


def provenance(training_data: Mapping[str, str | os.PathLike] | None = None, training_args: Mapping | None = None,
               metrics: Mapping | None = None, **extra) -> dict:
    """A provenance record: package and library versions, sha256 of each training data file
    (role -> path), the training arguments and the metrics."""
    from enhancer_tools import __version__
    from enhancer_tools.io.runinfo import package_versions, sha256_file

    data = {}
    for role, p in (training_data or {}).items():
        p = os.fspath(p)
        data[role] = {"path": p, "sha256": sha256_file(p) if os.path.isfile(p) else None}
    return {
        "package": "enhancer-tools",
        "version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "training_data": data,
        "training_args": dict(training_args or {}),
        "metrics": dict(metrics or {}),
        "versions": package_versions(),
        **extra,
    }


def is_model_directory(path: str | os.PathLike) -> bool:
    """True when ``path`` is a model directory this suite wrote (a model.json naming its kind),
    the only kind of non-empty folder a trainer replaces (with --force)."""
    try:
        with open(os.path.join(os.fspath(path), MODEL_JSON), encoding="utf-8") as fh:
            info = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "kind" in info and "format_version" in info


def save_model_dir(directory: str | os.PathLike, *, kind: str | None, config: Mapping, tensors: Mapping[str, Any],
                   provenance_info: Mapping, calibration: Calibration | None = None, window: Mapping | None = None,
                   max_tokens: int | None = None, tokenizer: str | os.PathLike | None = None,
                   info: Mapping | None = None) -> None:
    """Write a complete model directory into ``directory`` (an existing, empty folder, normally
    ``AtomicOutputs.directory(...)``); the one writer of every model and checkpoint folder.

    ``tensors`` maps names to torch tensors or numpy arrays (saved with safetensors);
    ``tokenizer`` is a tokenizer.json to copy; ``info`` adds keys to model.json. ``kind=None``
    writes a plain Hugging Face folder: no model.json, no calibration.json.
    """
    directory = os.fspath(directory)
    if kind is not None:
        model_info = {"kind": kind, "format_version": FORMAT_VERSION, "window": dict(window) if window else None,
                      "max_tokens": max_tokens, **dict(info or {})}
        write_json(os.path.join(directory, MODEL_JSON), model_info)
        write_json(os.path.join(directory, CALIBRATION_JSON), (calibration or Calibration()).as_dict())
    write_json(os.path.join(directory, CONFIG_JSON), dict(config))
    write_json(os.path.join(directory, PROVENANCE_JSON), dict(provenance_info))
    metadata = {"format": "pt"} if kind is None else {"kind": kind, "format": json.dumps(FORMAT_VERSION)}
    _save_tensors(dict(tensors), os.path.join(directory, WEIGHTS), metadata)
    if tokenizer is not None:
        shutil.copyfile(tokenizer, os.path.join(directory, TOKENIZER_JSON))


def _save_tensors(tensors: dict, path: str, metadata: dict) -> None:
    if any(type(v).__module__.startswith("torch") for v in tensors.values()):
        from safetensors.torch import save_file

        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, path, metadata=metadata)
    else:
        import numpy as np
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, path, metadata=metadata)
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)  # safetensors creates its file 0600; a model directory is shared like the rest


def load_tensors(directory: str | os.PathLike, framework: str = "pt") -> dict:
    """The weights of a model directory ('pt': torch tensors, 'np': numpy arrays)."""
    path = os.path.join(os.fspath(directory), WEIGHTS)
    if not os.path.isfile(path):
        raise UserError(f"model directory has no {WEIGHTS}", directory)
    if framework == "np":
        from safetensors.numpy import load_file
    else:
        from safetensors.torch import load_file
    try:
        return load_file(path)
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise UserError(f"cannot read weights: {exc}", path) from None


def read_model_info(path: str | os.PathLike) -> dict:
    """model.json of a model directory (a plain DNABERT-2 folder gives the dnabert2 defaults),
    with ``max_tokens`` filled from an older directory's ``max_length``."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise UserError("model directory not found", path)
    mj = os.path.join(path, MODEL_JSON)
    if not os.path.exists(mj):
        if os.path.exists(os.path.join(path, CONFIG_JSON)) and os.path.exists(os.path.join(path, TOKENIZER_JSON)):
            return {"kind": "dnabert2", "format_version": FORMAT_VERSION, "window": None, "max_tokens": None,
                    "plain_hf": True}
        raise UserError(f"not a model directory: no {MODEL_JSON} (nor a Hugging Face config.json + tokenizer.json)", path)
    info = read_json(mj)
    if not isinstance(info, dict) or not isinstance(info.get("kind"), str):
        raise UserError("model.json does not name the model's kind", mj)
    if info.get("format_version") != FORMAT_VERSION:
        raise UserError(f"model directory format_version {info.get('format_version')!r} is not supported "
                        f"(this version reads {FORMAT_VERSION})", mj)
    if "max_tokens" not in info:
        info["max_tokens"] = info.get("max_length") if info["kind"] == "dnabert2" else None
    return info


def read_calibration(path: str | os.PathLike) -> Calibration:
    """calibration.json of a model directory (temperature 1, threshold 0.5 when absent)."""
    cal_path = os.path.join(os.fspath(path), CALIBRATION_JSON)
    if not os.path.exists(cal_path):
        return Calibration(1.0, 0.5, "default")
    cal = read_json(cal_path)
    try:
        calibration = Calibration(float(cal["temperature"]), float(cal["threshold"]), cal.get("chosen_on", "validation"))
    except (KeyError, TypeError, ValueError):
        raise UserError("calibration.json needs numeric 'temperature' and 'threshold'", cal_path) from None
    if not calibration.temperature > 0:
        raise UserError("calibration temperature must be > 0", cal_path)
    return calibration
