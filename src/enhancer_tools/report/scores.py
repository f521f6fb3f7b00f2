"""Read score-regions' scores TSV for evaluation, and pair several models' scores by id."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.io.compressed import open_binary

REQUIRED_COLUMNS = ("id", "p", "label")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


@dataclass
class ModelScores:
    """One model's scores on a labelled set, in file order (or, after pairing, in a shared order)."""

    name: str
    path: str
    ids: np.ndarray  # str
    p: np.ndarray  # float64 in [0, 1]
    call: np.ndarray  # int8, 0/1 at the model's own threshold
    label: np.ndarray  # int8, 0/1
    call_source: str  # "call column" or "p >= 0.5 (no call column)"


def parse_scores_option(value: str) -> tuple[str, str]:
    """Split ``NAME=path`` into (name, path); names are short identifiers used in tables and plots."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise UserError(f"--scores expects NAME=scores.tsv (e.g. CNN=cnn_scores.tsv), got {value!r}")
    if not _NAME_RE.match(name):
        raise UserError(f"--scores name {name!r} must be letters, digits and _ . + - (at most 64 characters)")
    if not os.path.isfile(path):
        raise UserError("scores file not found", path)
    return name, path


def _binary(value: str, column: str, path: str, line: int) -> int:
    if value in ("0", "1"):
        return int(value)
    if value in ("0.0", "1.0"):
        return int(float(value))
    raise UserError(f"column {column!r} must be 0 or 1, got {value!r}", path, line)


def read_scores(name: str, path: str) -> ModelScores:
    """Parse a scores TSV (header row; columns ``id``, ``p``, ``label`` required, ``call`` used
    when present). Raises UserError with the line of the first bad value."""
    with open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)
        header_line = text.readline()
        if not header_line.strip():
            raise UserError("empty scores file (expected a header row with id, p, label, ...)", path, 1)
        header = header_line.rstrip("\n").split("\t")
        col = {c.strip(): i for i, c in enumerate(header)}
        missing = [c for c in REQUIRED_COLUMNS if c not in col]
        if missing:
            hint = " (score a labelled set so score-regions writes the label column)" if "label" in missing else ""
            raise UserError(f"missing column(s) {', '.join(missing)} in the header{hint}", path, 1)
        i_id, i_p, i_label, i_call = col["id"], col["p"], col["label"], col.get("call")
        width = len(header)
        ids, ps, labels, calls = [], [], [], []
        seen: dict[str, int] = {}
        for lineno, line in enumerate(text, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != width:
                raise UserError(f"expected {width} tab-separated columns, found {len(fields)}", path, lineno)
            rid = fields[i_id]
            if rid in seen:
                raise UserError(f"duplicate id {rid!r} (first on line {seen[rid]})", path, lineno)
            seen[rid] = lineno
            try:
                p = float(fields[i_p])
            except ValueError:
                raise UserError(f"column 'p' is not a number: {fields[i_p]!r}", path, lineno) from None
            if not 0.0 <= p <= 1.0:  # also rejects nan
                raise UserError(f"column 'p' must be a probability in [0, 1], got {fields[i_p]!r}", path, lineno)
            ids.append(rid)
            ps.append(p)
            labels.append(_binary(fields[i_label], "label", path, lineno))
            if i_call is not None:
                calls.append(_binary(fields[i_call], "call", path, lineno))
    if not ids:
        raise UserError("no scored rows after the header", path)
    label = np.asarray(labels, dtype=np.int8)
    if label.min() == label.max():
        raise UserError(f"every row has label {int(label[0])}; evaluation needs both classes (0 and 1)", path)
    p_arr = np.asarray(ps, dtype=np.float64)
    if i_call is None:
        call, source = (p_arr >= 0.5).astype(np.int8), "p >= 0.5 (no call column)"
    else:
        call, source = np.asarray(calls, dtype=np.int8), "call column"
    return ModelScores(name, path, np.asarray(ids, dtype=object), p_arr, call, label, source)


def pair_by_id(models: list[ModelScores]) -> list[ModelScores]:
    """Reorder every model to the first model's id order; all must score the same ids with the
    same labels, so that paired comparisons compare like with like."""
    if not models:
        return models
    first = models[0]
    order = {rid: i for i, rid in enumerate(first.ids)}
    paired = [first]
    for m in models[1:]:
        if len(m.ids) != len(first.ids) or any(rid not in order for rid in m.ids):
            only_here = [rid for rid in m.ids if rid not in order]
            other = set(m.ids)
            only_first = [rid for rid in first.ids if rid not in other]
            example = f"e.g. {only_here[0]!r} only in {m.name}" if only_here else f"e.g. {only_first[0]!r} only in {first.name}"
            raise UserError(
                f"models {first.name} and {m.name} scored different ids ({len(only_here)} only in {m.name}, "
                f"{len(only_first)} only in {first.name}; {example}); score the same held-out set with every model",
                m.path,
            )
        idx = np.fromiter((order[rid] for rid in m.ids), dtype=np.int64, count=len(m.ids))
        inverse = np.empty_like(idx)
        inverse[idx] = np.arange(len(idx))
        aligned = ModelScores(m.name, m.path, first.ids, m.p[inverse], m.call[inverse], m.label[inverse], m.call_source)
        bad = np.flatnonzero(aligned.label != first.label)
        if bad.size:
            raise UserError(
                f"label of id {first.ids[bad[0]]!r} differs from {first.name}'s ({bad.size} ids disagree)", m.path
            )
        paired.append(aligned)
    return paired
