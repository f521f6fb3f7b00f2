"""The one model-directory layout shared by every model kind, and the loader that reads any of them.

```
MODEL_DIR/
  model.json         {"kind": "dnabert2"|"enhancernet"|"kmer", "format_version": 1,
                      "window": {"width": W, "edge": ...} | null, "max_length": L | null, ...}
  config.json        architecture (dnabert2: the real DNABERT-2 keys)
  model.safetensors  weights (kmer: coefficients); never a pickle
  tokenizer.json     dnabert2 only
  calibration.json   {"temperature": T, "threshold": X, "chosen_on": "validation"}
  provenance.json    package version, training data sha256, training arguments, metrics
```

A plain Hugging Face DNABERT-2 folder (config.json + weights + tokenizer.json, no model.json)
is read as kind dnabert2 with temperature 1 and threshold 0.5.

Scores: ``LoadedModel.logits(seqs)`` gives the positive-class log-odds before temperature;
``probability(logodds)`` = sigmoid(logodds / T); a sequence is called when that probability
is >= ``calibration.threshold``.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from enhancer_tools.errors import UserError
from enhancer_tools.metrics.calibration import Calibration

FORMAT_VERSION = 1
KINDS = ("dnabert2", "enhancernet", "kmer")
MODEL_JSON, CONFIG_JSON, WEIGHTS, TOKENIZER_JSON = "model.json", "config.json", "model.safetensors", "tokenizer.json"
CALIBRATION_JSON, PROVENANCE_JSON = "calibration.json", "provenance.json"

# kind -> "module:function"; the function is ``load_scorer(path, info, config, device) -> scorer``
# where ``scorer.logits(seqs, batch_size)`` returns log-odds. Imported only when that kind is loaded.
_LOADERS = {
    "enhancernet": "enhancer_tools.models.enhancernet:load_scorer",
    "kmer": "enhancer_tools.models.kmer:load_scorer",
    "dnabert2": "enhancer_tools.models.modeldir:load_dnabert2_scorer",
}


def _write_json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")


def _read_json(path: str) -> Any:
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


def save_model_dir(directory: str | os.PathLike, *, kind: str, config: Mapping, tensors: Mapping[str, Any],
                   calibration: Calibration, provenance_info: Mapping, window: Mapping | None = None,
                   max_length: int | None = None, tokenizer: str | os.PathLike | None = None,
                   info: Mapping | None = None) -> None:
    """Write a complete model directory into ``directory`` (an existing, empty folder, normally
    ``AtomicOutputs.directory(...)``).

    ``tensors`` maps names to torch tensors or numpy arrays (saved with safetensors);
    ``tokenizer`` is a tokenizer.json to copy; ``info`` adds keys to model.json.
    """
    import json as _json

    from enhancer_tools.io.runinfo import jsonable

    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    directory = os.fspath(directory)
    model_info = {"kind": kind, "format_version": FORMAT_VERSION, "window": dict(window) if window else None,
                  "max_length": max_length, **dict(info or {})}
    _write_json(os.path.join(directory, MODEL_JSON), jsonable(model_info))
    _write_json(os.path.join(directory, CONFIG_JSON), jsonable(dict(config)))
    _write_json(os.path.join(directory, CALIBRATION_JSON), calibration.as_dict())
    _write_json(os.path.join(directory, PROVENANCE_JSON), jsonable(dict(provenance_info)))
    _save_tensors(dict(tensors), os.path.join(directory, WEIGHTS), {"kind": kind, "format": _json.dumps(FORMAT_VERSION)})
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


@dataclass
class LoadedModel:
    """A model read from a model directory, ready to score sequences."""

    kind: str
    path: str
    info: dict
    config: dict
    calibration: Calibration
    window: dict | None
    max_length: int | None
    scorer: Any = field(repr=False)
    provenance: dict | None = None

    def logits(self, seqs: Sequence[str], batch_size: int = 64):
        """Positive-class log-odds (numpy float64 [n]) before temperature; sequences are
        upper-cased by the model."""
        import numpy as np

        if len(seqs) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.scorer.logits(list(seqs), batch_size)

    def probability(self, logodds):
        """Calibrated probability sigmoid(logodds / temperature)."""
        return self.calibration.probability(logodds)

    def call(self, logodds):
        """Boolean calls: calibrated probability >= threshold."""
        return self.probability(logodds) >= self.calibration.threshold


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when available else 'cpu'; 'cuda' without CUDA is a UserError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device} was asked for but no CUDA device is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise UserError(f"unknown device {device!r}; use auto, cpu or cuda")
    return device


def read_model_info(path: str | os.PathLike) -> dict:
    """model.json of a model directory (a plain DNABERT-2 folder gives the dnabert2 defaults)."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise UserError("model directory not found", path)
    mj = os.path.join(path, MODEL_JSON)
    if not os.path.exists(mj):
        if os.path.exists(os.path.join(path, CONFIG_JSON)) and os.path.exists(os.path.join(path, TOKENIZER_JSON)):
            return {"kind": "dnabert2", "format_version": FORMAT_VERSION, "window": None, "max_length": None, "plain_hf": True}
        raise UserError(f"not a model directory: no {MODEL_JSON} (nor a Hugging Face config.json + tokenizer.json)", path)
    info = _read_json(mj)
    if not isinstance(info, dict) or info.get("kind") not in KINDS:
        raise UserError(f"model.json names an unknown kind {info.get('kind') if isinstance(info, dict) else info!r}; "
                        f"known: {', '.join(KINDS)}", mj)
    if info.get("format_version") != FORMAT_VERSION:
        raise UserError(f"model directory format_version {info.get('format_version')!r} is not supported "
                        f"(this version reads {FORMAT_VERSION})", mj)
    return info


def load_model_dir(path: str | os.PathLike, device: str = "cpu") -> LoadedModel:
    """Read any model directory, dispatching on model.json's kind."""
    path = os.fspath(path)
    info = read_model_info(path)
    config_path = os.path.join(path, CONFIG_JSON)
    if not os.path.exists(config_path):
        raise UserError(f"model directory has no {CONFIG_JSON}", path)
    config = _read_json(config_path)
    cal_path = os.path.join(path, CALIBRATION_JSON)
    if os.path.exists(cal_path):
        cal = _read_json(cal_path)
        try:
            calibration = Calibration(float(cal["temperature"]), float(cal["threshold"]), cal.get("chosen_on", "validation"))
        except (KeyError, TypeError, ValueError):
            raise UserError("calibration.json needs numeric 'temperature' and 'threshold'", cal_path) from None
        if not calibration.temperature > 0:
            raise UserError("calibration temperature must be > 0", cal_path)
    else:
        calibration = Calibration(1.0, 0.5, "default")
    prov_path = os.path.join(path, PROVENANCE_JSON)
    prov = _read_json(prov_path) if os.path.exists(prov_path) else None
    module_name, func_name = _LOADERS[info["kind"]].split(":")
    loader: Callable = getattr(importlib.import_module(module_name), func_name)
    scorer = loader(path, info, config, resolve_device(device))
    max_length = info.get("max_length") or getattr(scorer, "max_length", None)
    return LoadedModel(info["kind"], path, info, config, calibration, info.get("window"), max_length, scorer, prov)


class TorchScorer:
    """Scores with a torch model and its task adapter (eval mode, no grad, batched)."""

    def __init__(self, model, adapter, device: str, max_length: int | None = None) -> None:
        self.model = model.to(device).eval()
        self.adapter = adapter
        self.device = device
        self.max_length = max_length

    def logits(self, seqs: Sequence[str], batch_size: int):
        from enhancer_tools.models.adapter import predict_logodds

        return predict_logodds(self.model, self.adapter, seqs, batch_size, self.device)


def dnabert2_max_length(path: str, info: Mapping, config: Mapping) -> int:
    """Token limit: model.json max_length, else the tokenizer's truncation, else 512 (ALiBi
    models have no position table; 512 is the pretraining length)."""
    if info.get("max_length"):
        return int(info["max_length"])
    tok = _read_json(os.path.join(path, TOKENIZER_JSON))
    trunc = tok.get("truncation") if isinstance(tok, dict) else None
    if trunc and trunc.get("max_length"):
        return int(trunc["max_length"])
    return int(config.get("max_position_embeddings") or 512)


def load_dnabert2_scorer(path: str, info: Mapping, config: Mapping, device: str) -> TorchScorer:
    """Loader for kind dnabert2 (model file: enhancer_tools.models.dnabert2)."""
    from enhancer_tools.models import dnabert2
    from enhancer_tools.models.token_adapter import TokenAdapter

    tokenizer = os.path.join(path, TOKENIZER_JSON)
    if not os.path.exists(tokenizer):
        raise UserError(f"dnabert2 model directory has no {TOKENIZER_JSON}", path)
    max_length = dnabert2_max_length(path, info, config)
    model = dnabert2.DNABERT2ForSequenceClassification.from_pretrained(path)
    return TorchScorer(model, TokenAdapter(tokenizer, max_length), device, max_length)
