"""benchmarks/real_data_cv.py: the folds of the cross-validated real-data benchmark put every record
in exactly one test fold (stratified, or whole chromosomes), and the fold-averaged bootstrap pairs
the models on the same resamples."""

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from enhancer_tools.metrics.binary import roc_auc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def real_data_cv():
    spec = importlib.util.spec_from_file_location("real_data_cv", ROOT / "benchmarks" / "real_data_cv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fasta(path, records):
    path.write_text("".join(f">{rid} label={lab} region={chrom}:1-100\nACGT\n" for rid, lab, chrom in records))


def _ids(path):
    return [line.split()[0][1:] for line in path.read_text().splitlines() if line.startswith(">")]


def test_random_folds_are_stratified_and_disjoint(real_data_cv, tmp_path):
    records = [(f"r{i}", int(i < 30), "chr1") for i in range(100)]
    _fasta(tmp_path / "pool.fa", records)
    real_data_cv.write_folds(str(tmp_path / "pool.fa"), str(tmp_path / "cv"), k=5, seed=1, by_chrom=False)
    tests = []
    for f in range(5):
        split = tmp_path / "cv" / f"fold{f}" / "split"
        parts = {name: _ids(split / f"{name}.fa") for name in ("train", "val", "test")}
        assert sorted(rid for ids in parts.values() for rid in ids) == sorted(r[0] for r in records)  # once per fold
        assert Counter(int(r[1:]) < 30 for r in parts["test"]) == {True: 6, False: 14}
        assert parts["val"] == _ids(tmp_path / "cv" / f"fold{(f + 1) % 5}" / "split" / "test.fa")
        tests += parts["test"]
    assert sorted(tests) == sorted(r[0] for r in records)  # every record tested exactly once


def test_chromosome_folds_keep_each_chromosome_whole(real_data_cv, tmp_path):
    sizes = {"chrI": 9, "chrII": 7, "chrIII": 6, "chrIV": 5, "chrV": 3, "chrVI": 2, "chrVII": 1}
    records = [(f"{c}_{i}", i % 2, c) for c, n in sizes.items() for i in range(n)]
    _fasta(tmp_path / "pool.fa", records)
    real_data_cv.write_folds(str(tmp_path / "pool.fa"), str(tmp_path / "cv"), k=3, seed=1, by_chrom=True)
    seen = Counter()
    for f in range(3):
        chroms = {rid.split("_")[0] for rid in _ids(tmp_path / "cv" / f"fold{f}" / "split" / "test.fa")}
        seen.update(chroms)
    assert seen == Counter(set(sizes))  # each chromosome in exactly one test fold
    loads = [len(_ids(tmp_path / "cv" / f"fold{f}" / "split" / "test.fa")) for f in range(3)]
    assert max(loads) - min(loads) <= 2  # greedy balance: 11 / 11 / 11 here


def test_fold_bootstrap_is_paired_and_averages_folds(real_data_cv):
    rng = np.random.default_rng(0)
    folds = []
    for _ in range(3):
        y = np.repeat([0, 1], 40)
        kmer = y + rng.normal(0, 1.0, 80)
        folds.append({"kmer": (y, kmer), "same": (y, kmer.copy()), "better": (y, y + rng.normal(0, 0.3, 80))})
    stats = real_data_cv.fold_bootstrap(folds, n=200, seed=1)
    v, lo, hi, d, dlo, dhi = stats[("same", "roc_auc")]
    assert (d, dlo, dhi) == (0.0, 0.0, 0.0)  # the same scores: zero difference on every resample
    mean = np.mean([roc_auc(*f["kmer"]) for f in folds])
    assert stats[("kmer", "roc_auc")][0] == pytest.approx(mean)
    assert lo <= v <= hi
    assert stats[("better", "roc_auc")][4] > 0  # clearly above the floor
