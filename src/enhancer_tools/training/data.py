"""Labelled training/validation data for the trainers: binary labels, upper-cased sequences."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.io.dataset import read_dataset

log = logging.getLogger(__name__)
_BINARY = {"0": 0, "1": 1}


@dataclass
class LabelledSet:
    """Sequences (upper-cased) with 0/1 labels, in file order."""

    path: str
    ids: list[str]
    seqs: list[str]
    labels: np.ndarray  # int64 [n]

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def n_positive(self) -> int:
        return int(self.labels.sum())


def read_labelled(path: str | os.PathLike, role: str = "training") -> LabelledSet:
    """Read a labelled FASTA/TSV/CSV (``enhancer_tools.io.dataset``); labels must be '0' or '1'
    and both classes must be present."""
    path = os.fspath(path)
    ids, seqs, labels = [], [], []
    for rec in read_dataset(path):
        value = _BINARY.get(rec.label.strip())
        if value is None:
            raise UserError(f"record {rec.id!r} has label {rec.label!r}; the trainers need binary labels 0 "
                            "(non-enhancer) or 1 (enhancer)", path, rec.line)
        ids.append(rec.id)
        seqs.append(rec.seq.upper())
        labels.append(value)
    if not seqs:
        raise UserError(f"the {role} file has no sequences", path)
    y = np.asarray(labels, dtype=np.int64)
    if y.min() == y.max():
        raise UserError(f"the {role} file has only label {int(y[0])}; both classes (0 and 1) are needed", path)
    return LabelledSet(path, ids, seqs, y)


def read_train_val(train: str | os.PathLike, val: str | os.PathLike) -> tuple[LabelledSet, LabelledSet]:
    """Read the training and validation files; warn when they share sequences."""
    if os.path.exists(train) and os.path.exists(val) and os.path.samefile(train, val):
        raise UserError("the validation file is the training file; validation must be held out", val)
    tr, va = read_labelled(train, "training"), read_labelled(val, "validation")
    shared = len(set(tr.seqs) & set(va.seqs))
    if shared:
        log.warning("%d validation sequence(s) also occur in the training file: validation metrics will be "
                    "optimistic (de-duplicate with fasta-rc-dedup and split with dataset-split)", shared)
    return tr, va
