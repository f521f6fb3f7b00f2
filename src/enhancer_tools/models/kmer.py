"""The k-mer baseline: logistic regression on normalised canonical k-mer frequencies.

Features: for each k, the count of every canonical k-mer (a k-mer and its reverse complement
are one feature) divided by the number of A/C/G/T-only k-mers of that length in the sequence
(k-mers touching N or another ambiguity code are skipped); then standardised with the training
set's mean and standard deviation. The model directory holds the coefficients in
model.safetensors and k, the vocabulary, C and the scaler parameters in config.json: no pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import numpy as np

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def canonical_vocabulary(k: int) -> list[str]:
    """Canonical k-mers (the smaller of a k-mer and its reverse complement), sorted."""
    kmers = ("".join(p) for p in product("ACGT", repeat=k))
    return sorted({min(s, s.translate(_COMPLEMENT)[::-1]) for s in kmers})


def _column_of_index(k: int, vocabulary: Sequence[str]) -> np.ndarray:
    """For every k-mer index (base-4 number, A=0..T=3) the column of its canonical form."""
    column = {kmer: i for i, kmer in enumerate(vocabulary)}
    out = np.empty(4 ** k, dtype=np.int64)
    for idx, p in enumerate(product("ACGT", repeat=k)):
        s = "".join(p)
        out[idx] = column[min(s, s.translate(_COMPLEMENT)[::-1])]
    return out


class KmerFeatures:
    """Canonical k-mer frequency vectors for a fixed list of k."""

    def __init__(self, ks: Sequence[int]) -> None:
        self.ks = sorted(set(int(k) for k in ks))
        self.vocabulary = {k: canonical_vocabulary(k) for k in self.ks}
        self._columns = {k: _column_of_index(k, self.vocabulary[k]) for k in self.ks}

    @property
    def n_features(self) -> int:
        return sum(len(v) for v in self.vocabulary.values())

    def transform(self, seqs: Sequence[str]) -> np.ndarray:
        """Frequencies [n, n_features] (float64); sequences are upper-cased."""
        out = np.zeros((len(seqs), self.n_features), dtype=np.float64)
        for row, seq in enumerate(seqs):
            codes = _CODE[np.frombuffer(seq.upper().encode("ascii"), dtype=np.uint8)]
            offset = 0
            for k in self.ks:
                width = len(self.vocabulary[k])
                n = len(codes) - k + 1
                if n > 0:
                    idx = np.zeros(n, dtype=np.int64)
                    bad = np.zeros(n, dtype=bool)
                    for j in range(k):
                        window = codes[j:j + n]
                        idx = idx * 4 + np.minimum(window, 3)
                        bad |= window == 4
                    counts = np.bincount(self._columns[k][idx[~bad]], minlength=width)
                    total = counts.sum()
                    if total:
                        out[row, offset:offset + width] = counts / total
                offset += width
        return out


def parse_k(text: str) -> list[int]:
    """'3-6' -> [3, 4, 5, 6]; '4,6' -> [4, 6]; each k in 1..8."""
    from enhancer_tools.errors import UserError

    ks: set[int] = set()
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            ks.update(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    except ValueError:
        raise UserError(f"--k {text!r}: give a range like 3-6 or a list like 4,6") from None
    if not ks or min(ks) < 1 or max(ks) > 8:
        raise UserError(f"--k {text!r}: k must lie between 1 and 8")
    return sorted(ks)


class KmerScorer:
    """Scores sequences with stored logistic-regression coefficients."""

    def __init__(self, features: KmerFeatures, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        self.features, self.mean, self.scale, self.coef, self.intercept = features, mean, scale, coef, intercept

    def encode(self, seqs: Sequence[str]) -> list[str]:
        """The scorer interface's CPU side (see models.scorer): the sequences themselves."""
        return list(seqs)

    def logodds(self, encoded: Sequence[str]) -> np.ndarray:
        """Log-odds of one batch of sequences."""
        x = (self.features.transform(encoded) - self.mean) / self.scale
        return x @ self.coef + self.intercept

    def logits(self, seqs: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Log-odds of ``seqs`` in batches of ``batch_size``."""
        out = np.empty(len(seqs), dtype=np.float64)
        for start in range(0, len(seqs), batch_size):
            out[start:start + batch_size] = self.logodds(seqs[start:start + batch_size])
        return out


def load_scorer(path: str, config: Mapping) -> KmerScorer:
    """The scorer of a saved k-mer model directory (weights in model.safetensors, the rest in
    config.json)."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.models.modeldir import load_tensors

    tensors = load_tensors(path, framework="np")
    try:
        features = KmerFeatures(config["k"])
        mean = np.asarray(config["scaler_mean"], dtype=np.float64)
        scale = np.asarray(config["scaler_scale"], dtype=np.float64)
        coef = tensors["coef"].astype(np.float64)
        intercept = float(tensors["intercept"][0])
        vocabulary_ok = all(config["vocabulary"][str(k)] == features.vocabulary[k] for k in features.ks)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UserError(f"config.json and model.safetensors do not describe a k-mer model: {exc!r}", path) from None
    if not vocabulary_ok or not (len(coef) == len(mean) == len(scale) == features.n_features):
        raise UserError("k-mer vocabulary or coefficient count does not match config.json's k", path)
    return KmerScorer(features, mean, scale, coef, intercept)


def fit_kmer(train_seqs: Sequence[str], train_labels: np.ndarray, val_seqs: Sequence[str], val_labels: np.ndarray,
             ks: Sequence[int], c_grid: Sequence[float], class_weights: bool = False):
    """Fit one logistic regression per C on the training set; keep the C with the best validation
    PR-AUC (ties: the smaller C, i.e. stronger regularisation). Returns (scorer, C, table)."""
    from sklearn.linear_model import LogisticRegression

    from enhancer_tools.metrics.binary import pr_auc, roc_auc

    features = KmerFeatures(ks)
    x_train = features.transform(train_seqs)
    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0)
    scale[scale == 0] = 1.0  # k-mers absent from training carry no information
    x_train = (x_train - mean) / scale
    x_val = (features.transform(val_seqs) - mean) / scale
    best, table = None, []
    for c in sorted(c_grid):
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if class_weights else None)
        model.fit(x_train, train_labels)
        z = model.decision_function(x_val)
        row = {"C": c, "val_pr_auc": pr_auc(val_labels, z), "val_roc_auc": roc_auc(val_labels, z)}
        table.append(row)
        if best is None or row["val_pr_auc"] > best[0]:
            best = (row["val_pr_auc"], c, model)
    _, c, model = best
    scorer = KmerScorer(features, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))
    return scorer, c, table


def model_config(scorer: KmerScorer, c: float) -> dict:
    """config.json of a k-mer model."""
    return {"model_type": "kmer", "k": scorer.features.ks, "C": c,
            "features": "canonical k-mer frequency per k, standardised with the training mean and std",
            "vocabulary": {str(k): v for k, v in scorer.features.vocabulary.items()},
            "scaler_mean": scorer.mean.tolist(), "scaler_scale": scorer.scale.tolist()}
