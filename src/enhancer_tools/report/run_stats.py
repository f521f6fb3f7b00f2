"""Collect enhancer-tools run-info JSONs (every tool's ``--json``) and pull out what the report
shows. Parsing is tolerant: each extractor keys on ``tool``, takes what is present, and returns
nothing when nothing matched (so no empty report sections)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)

WINDOW_TOOLS = ("bed-summit-window", "background-windows")
DEDUP_TOOLS = ("fasta-rc-dedup",)
SPLIT_TOOLS = ("dataset-split",)
TOKEN_TOOLS = ("bpe-train",)
TRAIN_TOOLS = ("dnabert2-finetune", "enhancernet-train", "kmer-baseline", "model-ensemble")
PRETRAIN_TOOLS = ("dnabert2-pretrain",)
SPLIT_NAMES = ("train", "val", "validation", "test")
_X_KEYS = ("bin_centers", "centers", "bin_edges", "edges", "bins", "bin_start", "bin_starts", "left", "x")
_LEAK_KINDS = ("exact", "reverse_complement", "near_duplicates", "label_disagreements")


@dataclass
class ToolRun:
    """One run-info JSON: ``name`` is the label shown in the report (tool, plus file stem when a
    tool ran more than once)."""

    name: str
    tool: str
    path: str
    data: dict[str, Any]


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"not valid JSON ({exc})", path) from None
    except OSError as exc:
        raise UserError(f"cannot read ({exc.strerror})", path) from None


def _is_run_info(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("tool"), str) and "schema_version" in data


def load_runs(paths: list[str], exclude: str | None = None) -> list[ToolRun]:
    """Run infos from JSON files and folders (searched recursively; JSON files that are not run
    info are skipped there, but an explicitly named one is an error). ``exclude`` is a folder
    whose contents are ignored (the report's own output)."""
    found: list[tuple[Path, dict]] = []
    skip = Path(exclude).resolve() if exclude else None
    for given in paths:
        p = Path(given)
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                if skip and skip in f.resolve().parents or "multiqc_data" in f.parts:
                    continue
                try:
                    data = _load_json(f)
                except UserError as exc:
                    log.debug("skipping %s", exc)
                    continue
                if _is_run_info(data):
                    found.append((f, data))
        elif p.is_file():
            data = _load_json(p)
            if not _is_run_info(data):
                raise UserError("not an enhancer-tools run-info JSON (no 'tool' and 'schema_version' keys)", p)
            found.append((p, data))
        else:
            raise UserError("--stats path not found", p)
    unique: dict[str, tuple[Path, dict]] = {str(f.resolve()): (f, d) for f, d in found}
    per_tool: dict[str, int] = {}
    for _, d in unique.values():
        per_tool[d["tool"]] = per_tool.get(d["tool"], 0) + 1
    runs, names = [], set()
    for f, d in unique.values():
        name = d["tool"] if per_tool[d["tool"]] == 1 else f"{d['tool']} ({f.stem})"
        if name in names:
            name = f"{d['tool']} ({f.parent.name}/{f.stem})"
        names.add(name)
        runs.append(ToolRun(name, d["tool"], os.fspath(f), d))
    log.info("read %d run-info JSON file(s)", len(runs))
    return runs


def is_number(value: Any) -> bool:
    """A real number (bools excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def flatten_numbers(obj: Any, prefix: str = "", depth: int = 3) -> dict[str, float]:
    """Scalar numbers of nested dicts as ``a.b.c`` keys (lists are skipped)."""
    out: dict[str, float] = {}
    if not isinstance(obj, dict) or depth < 0:
        return out
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if is_number(value):
            out[name] = value
        elif isinstance(value, dict):
            out.update(flatten_numbers(value, f"{name}.", depth - 1))
    return out


def _numeric_dict(obj: Any) -> dict[str, float] | None:
    if isinstance(obj, dict) and obj and all(is_number(v) for v in obj.values()):
        return {str(k): v for k, v in obj.items()}
    return None


def reject_reasons(run: ToolRun) -> dict[str, float]:
    """Rejected rows by reason: a dict under a key containing 'reject' (top level or in counts),
    or counts named ``rejected_<reason>``/``rejects_<reason>``."""
    counts = run.data.get("counts") or {}
    for holder in (run.data, counts):
        for key, value in holder.items():
            if "reject" in key.lower() and (found := _numeric_dict(value)):
                return found
    out = {}
    for key, value in counts.items():
        for prefix in ("rejected_", "rejects_", "reject_"):
            if key.startswith(prefix) and is_number(value):
                out[key[len(prefix):]] = value
    return out


def _series_from(obj: Any, name: str) -> dict[str, dict[float, float]]:
    """Histogram series from the shapes tools write: {x-list, y-list(s)}, {x: y}, [[x, y], ...],
    or a dict of such under series names."""
    series: dict[str, dict[float, float]] = {}
    if isinstance(obj, list) and obj and all(isinstance(r, (list, tuple)) and len(r) == 2 for r in obj):
        if all(is_number(a) and is_number(b) for a, b in obj):
            series[name] = {float(a): float(b) for a, b in obj}
        return series
    if not isinstance(obj, dict):
        return series
    plain = _numeric_dict(obj)
    if plain:
        try:
            return {name: {float(k): float(v) for k, v in plain.items()}}
        except ValueError:
            return series
    x_key = next((k for k in _X_KEYS if isinstance(obj.get(k), list) and all(is_number(v) for v in obj[k])), None)
    if x_key is not None:
        x = [float(v) for v in obj[x_key]]
        for key, ys in obj.items():
            if key == x_key or not isinstance(ys, list) or not ys or not all(is_number(v) for v in ys):
                continue
            if len(x) == len(ys) + 1:
                xs = [(a + b) / 2 for a, b in zip(x[:-1], x[1:])]
            elif len(x) == len(ys):
                xs = x
            else:
                continue
            series[f"{name} {key}" if key not in ("counts", "count", "y") else name] = dict(zip(xs, map(float, ys)))
        return series
    for key, value in obj.items():
        if isinstance(value, (dict, list)):
            series.update(_series_from(value, f"{name} {key}"))
    return series


def histograms(run: ToolRun, must_contain: tuple[str, ...] = ()) -> dict[str, dict[float, float]]:
    """Every histogram found under keys containing 'hist' (and all of ``must_contain``), searched
    two levels deep, as series named after the run."""
    out: dict[str, dict[float, float]] = {}

    def visit(obj: Any, depth: int) -> None:
        if not isinstance(obj, dict) or depth > 2:
            return
        for key, value in obj.items():
            k = key.lower()
            if "hist" in k and all(word in k for word in must_contain):
                label = run.name if k in ("histogram", "hist") else f"{run.name} {key}"
                out.update(_series_from(value, label))
            elif isinstance(value, dict):
                visit(value, depth + 1)

    visit({k: v for k, v in run.data.items() if k not in ("parameters", "inputs", "outputs", "versions")}, 0)
    return {k: v for k, v in out.items() if v}


def split_class_counts(run: ToolRun) -> dict[str, dict[str, float]]:
    """Per split (train/val/test), records per class, from the first dict keyed by split names."""

    def classes(value: Any) -> dict[str, float] | None:
        if (found := _numeric_dict(value)) is not None:
            return found
        if isinstance(value, dict):
            for key in ("classes", "class_counts", "labels", "by_label", "label_counts", "per_class"):
                if (found := _numeric_dict(value.get(key))) is not None:
                    return found
        return None

    def visit(obj: Any, depth: int) -> dict[str, dict[str, float]]:
        if not isinstance(obj, dict) or depth > 3:
            return {}
        splits = {k: classes(v) for k, v in obj.items() if k.lower() in SPLIT_NAMES}
        splits = {k: v for k, v in splits.items() if v}
        if len(splits) >= 2:
            return splits
        for value in obj.values():
            if found := visit(value, depth + 1):
                return found
        return {}

    return visit({k: v for k, v in run.data.items() if k not in ("parameters", "inputs", "outputs")}, 0)


def leakage_audit(run: ToolRun) -> dict[str, float]:
    """dataset-split's ``audit``: for each pair of splits, records of the later split whose sequence
    is in the earlier one (exact, reverse complement, near duplicate) and label disagreements among
    them; duplicates within each split; and the total of leaking records."""
    audit = run.data.get("audit")
    if not isinstance(audit, dict):
        return {}
    out: dict[str, float] = {}
    for pair in audit.get("overlaps") or []:
        if isinstance(pair, dict) and isinstance(pair.get("earlier"), str) and isinstance(pair.get("later"), str):
            for kind in _LEAK_KINDS:
                if is_number(pair.get(kind)):
                    out[f"{pair['earlier']}_vs_{pair['later']}_{kind}"] = pair[kind]
    splits = audit.get("splits")
    for name, split in (splits.items() if isinstance(splits, dict) else ()):
        if isinstance(split, dict) and is_number(split.get("duplicates_within")):
            out[f"{name}_duplicates_within"] = split["duplicates_within"]
    if is_number(audit.get("leaking_records")):
        out["leaking_records"] = audit["leaking_records"]
    return out


def token_length_stats(run: ToolRun) -> dict[str, float]:
    """bpe-train's ``token_lengths`` summary (tokens per sequence, bp per token, truncation, the
    recommended and used max_length) and the vocabulary size; the histogram is shown apart."""
    lengths = run.data.get("token_lengths")
    if not isinstance(lengths, dict):
        return {}
    out = flatten_numbers({k: v for k, v in lengths.items() if k != "histogram"})
    tokenizer = run.data.get("tokenizer")
    if isinstance(tokenizer, dict) and is_number(tokenizer.get("vocab_size")):
        out["vocab_size"] = tokenizer["vocab_size"]
    return out


def epoch_log(run: ToolRun) -> list[dict[str, float]]:
    """The per-epoch training log: a list of dicts with numbers (``epochs``, ``history`` or ``log``)."""
    for key in ("epochs", "history", "epoch_log", "log"):
        rows = run.data.get(key)
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            return [{k: v for k, v in r.items() if is_number(v)} for r in rows]
    return []


def pretraining_curve(run: ToolRun) -> dict[str, dict[float, float]]:
    """dnabert2-pretrain's validation curve: {"val_masked_accuracy" | "val_loss": {step: value}}."""
    rows = run.data.get("pretraining")
    curves: dict[str, dict[float, float]] = {}
    if not isinstance(rows, list):
        return curves
    for row in rows:
        if not isinstance(row, dict) or not is_number(row.get("step")):
            continue
        for key in ("val_masked_accuracy", "val_loss"):
            if is_number(row.get(key)):
                curves.setdefault(key, {})[row["step"]] = row[key]
    return curves


def pretraining_summary(run: ToolRun) -> dict[str, float]:
    """dnabert2-pretrain's totals: steps, tokens seen, the last validation's masked-token accuracy
    and loss, and the accuracy of always guessing the commonest masked token."""
    out = {k: run.data[k] for k in ("steps", "tokens_seen") if is_number(run.data.get(k))}
    validation = run.data.get("validation")
    if isinstance(validation, dict):
        for key in ("masked_accuracy", "loss", "majority_token_accuracy"):
            if is_number(validation.get(key)):
                out[f"val_{key}"] = validation[key]
    return out


def optuna_trials(run: ToolRun) -> list[dict[str, Any]]:
    """Optuna trials as dicts with ``number``, ``value``, ``state``, ``seconds`` and flattened ``params``."""
    study = run.data.get("optuna")
    if not isinstance(study, dict):
        return []
    trials = study.get("trials")
    if isinstance(trials, dict):  # a column-oriented table
        keys = list(trials)
        length = max((len(v) for v in trials.values() if isinstance(v, list)), default=0)
        trials = [{k: trials[k][i] for k in keys if isinstance(trials[k], list) and i < len(trials[k])} for i in range(length)]
    if not isinstance(trials, list):
        return []
    out = []
    for i, t in enumerate(trials):
        if not isinstance(t, dict):
            continue
        row: dict[str, Any] = {"number": t.get("number", i)}
        value = t.get("value", t.get("values"))
        if isinstance(value, list) and value:
            value = value[0]
        if is_number(value):
            row["value"] = value
        if isinstance(t.get("state"), str):
            row["state"] = t["state"]
        if is_number(t.get("duration_seconds")):
            row["seconds"] = t["duration_seconds"]
        params = t.get("params") if isinstance(t.get("params"), dict) else {k[7:]: v for k, v in t.items() if k.startswith("params_")}
        for k, v in params.items():
            if is_number(v) or isinstance(v, str):
                row[f"param {k}"] = v
        out.append(row)
    return out


def software_versions(runs: list[ToolRun]) -> dict[str, dict[str, str]]:
    """Per tool: enhancer-tools, Python and package versions (MultiQC software-versions layout)."""
    out: dict[str, dict[str, str]] = {}
    for run in runs:
        entry = out.setdefault(run.tool, {})
        if isinstance(run.data.get("version"), str):
            entry["enhancer-tools"] = run.data["version"]
        if isinstance(run.data.get("python"), str):
            entry["python"] = run.data["python"]
        versions = run.data.get("versions")
        if isinstance(versions, dict):
            entry.update({str(k): str(v) for k, v in versions.items() if v is not None})
    return {k: v for k, v in out.items() if v}
