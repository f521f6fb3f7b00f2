"""Leakage and balance audit of a train/val/test split.

For every pair of splits (A before B in the order given) it counts the records of B whose
canonical sequence also occurs in A, as exact copies (same strand, any case) or reverse
complements, and optionally B records with a near-duplicate (vsearch, both strands) in A.
It also reports duplicates within each split, class counts and fractions per split, and the
length and GC differences between classes that a model could exploit instead of biology.
"""

from __future__ import annotations

import numpy as np

from enhancer_tools.dataset.canonical import PALINDROME
from enhancer_tools.dataset.dedup import Inputs, first_of_groups, iter_sequences, scan_inputs


def _split_inputs(files: dict[str, list[str]], label_for: dict[str, str], jobs: int, with_stats: bool) -> tuple[Inputs, np.ndarray, list[str]]:
    names = list(files)
    paths = [p for n in names for p in files[n]]
    split_of_file = np.array([i for i, n in enumerate(names) for _ in files[n]], np.int64)
    inputs = scan_inputs(paths, [label_for.get(p) for p in paths], jobs, with_stats)
    return inputs, split_of_file[inputs.file_of], names


def _describe(values: np.ndarray) -> dict:
    if not len(values):
        return {"n": 0}
    return {"n": int(len(values)), "mean": round(float(values.mean()), 4), "median": round(float(np.median(values)), 4),
            "sd": round(float(values.std()), 4)}


def _cohens_d(a: np.ndarray, b: np.ndarray) -> float | None:
    """Standardised mean difference; None when undefined (fewer than 2 values, or no spread)."""
    if len(a) < 2 or len(b) < 2:
        return None
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    return round(float((a.mean() - b.mean()) / pooled), 4) if pooled > 0 else None


def audit_inputs(inputs: Inputs, split: np.ndarray, names: list[str], near_identity: float | None = None, threads: int = 1) -> dict:
    """The audit of records already scanned (``split`` = split index of each record); the
    length and GC part only when they were scanned ``with_stats``."""
    keys, orient = inputs.column("keys"), inputs.column("orient")
    label_names = [inputs.labels[c] if c >= 0 else "(none)" for c in range(-1, len(inputs.labels))]
    label = inputs.label

    report: dict = {"splits": {}, "overlaps": []}
    for s, name in enumerate(names):
        in_s = split == s
        first = first_of_groups(keys[in_s])
        per_class = {label_names[c + 1]: int((label[in_s] == c).sum()) for c in np.unique(label[in_s]).tolist()}
        n = int(in_s.sum())
        report["splits"][name] = {
            "records": n,
            "per_class": per_class,
            "class_fractions": {k: round(v / n, 4) for k, v in per_class.items()} if n else {},
            "duplicates_within": int((first != np.arange(len(first))).sum()),
        }
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            ia, ib = np.flatnonzero(split == a), np.flatnonzero(split == b)
            both = np.concatenate([ia, ib])
            first = first_of_groups(keys[both])[len(ia):]
            hit = first < len(ia)
            same = (orient[ib] == orient[both[first]]) | (orient[ib] == PALINDROME)
            entry = {"earlier": names[a], "later": names[b], "exact": int((hit & same).sum()),
                     "reverse_complement": int((hit & ~same).sum())}
            entry["label_disagreements"] = int((hit & (label[ib] != label[both[first]])).sum())
            if near_identity is not None:
                from enhancer_tools.dataset.near_duplicates import search

                db = ((i, s) for i, _, s in iter_sequences(inputs, split == a))
                queries = ((i, s) for i, _, s in iter_sequences(inputs, (split == b) & ~np.isin(np.arange(inputs.n), ib[hit])))
                entry["near_duplicates"] = len(search(queries, db, near_identity, threads))
                entry["near_identity"] = near_identity
            report["overlaps"].append(entry)
    report["leaking_records"] = sum(o["exact"] + o["reverse_complement"] + o.get("near_duplicates", 0) for o in report["overlaps"])
    if inputs.records[0].length is not None:
        _class_statistics(report, inputs, label_names)
    return report


def _class_statistics(report: dict, inputs: Inputs, label_names: list[str]) -> None:
    length = inputs.column("length").astype(np.float64)
    gc = inputs.column("gc").astype(np.float64)
    acgt = inputs.column("acgt").astype(np.float64)
    gc_frac = np.divide(gc, acgt, out=np.zeros_like(gc), where=acgt > 0)
    label = inputs.label
    codes = np.unique(label).tolist()
    report["classes"] = {}
    for c in codes:
        m = label == c
        report["classes"][label_names[c + 1]] = {"records": int(m.sum()), "length": _describe(length[m]), "gc": _describe(gc_frac[m])}
    if len(codes) == 2:
        a, b = (label == codes[0]), (label == codes[1])
        report["class_differences"] = {
            "between": [label_names[codes[0] + 1], label_names[codes[1] + 1]],
            "length_mean_difference": round(float(length[a].mean() - length[b].mean()), 4),
            "length_cohens_d": _cohens_d(length[a], length[b]),
            "gc_mean_difference": round(float(gc_frac[a].mean() - gc_frac[b].mean()), 4),
            "gc_cohens_d": _cohens_d(gc_frac[a], gc_frac[b]),
        }


def audit_files(files: dict[str, list[str]], label_for: dict[str, str] | None = None, near_identity: float | None = None,
                jobs: int = 1, with_stats: bool = True) -> dict:
    """Audit split files: ``files`` maps a split name to its file(s), in split order;
    ``with_stats`` adds the per-class length and GC statistics."""
    inputs, split, names = _split_inputs(files, label_for or {}, jobs, with_stats)
    return audit_inputs(inputs, split, names, near_identity, jobs)
