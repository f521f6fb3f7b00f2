"""dataset-split: class-stratified split, chromosome hold-out, duplicate and near-duplicate
groups never straddling splits, self-check, bad options."""

import json
import random
import shutil
from collections import Counter

import pytest

from dataset_helpers import dataset_with_duplicates, invoke, random_seq, read_records, write_fasta
from enhancer_tools.cli.dataset_split import main
from enhancer_tools.dataset.canonical import canonical_key
from enhancer_tools.dataset.split import integer_targets, stratified_split
from enhancer_tools.seq import reverse_complement


def dataset(tmp_path, n=300, seed=2):
    recs = dataset_with_duplicates(random.Random(seed), n)
    recs = [(f"{h} region=chr{i % 5 + 1}:{i * 100}-{i * 100 + 60}(+)", s) for i, (h, s) in enumerate(recs)]
    return write_fasta(tmp_path / "ds.fa", recs), recs


def run_split(tmp_path, *extra, inputs=None):
    path = inputs or dataset(tmp_path)[0]
    outs = {n: tmp_path / f"{n}.fa" for n in ("train", "val", "test")}
    res = invoke(main, [path, "--train", outs["train"], "--val", outs["val"], "--test", outs["test"],
                        "--json", tmp_path / "s.json", *extra])
    assert res.exit_code == 0, res.output
    return {n: read_records(p) for n, p in outs.items()}


def keys_of(records):
    return {canonical_key(s) for _, s in records}


def test_stratified_split_is_leak_free_and_balanced(tmp_path):
    path, recs = dataset(tmp_path)
    splits = run_split(tmp_path, inputs=path)
    assert sorted(r for part in splits.values() for r in part) == sorted(recs)
    assert not keys_of(splits["train"]) & keys_of(splits["val"])
    assert not keys_of(splits["train"]) & keys_of(splits["test"]) and not keys_of(splits["val"]) & keys_of(splits["test"])
    totals = Counter(h.split("label=")[1][0] for h, _ in recs)
    for name, share in zip(("train", "val", "test"), (0.7, 0.15, 0.15)):
        got = Counter(h.split("label=")[1][0] for h, _ in splits[name])
        for c, total in totals.items():
            assert abs(got[c] - share * total) <= 1, (name, c, got[c], share * total)
    counts = json.loads((tmp_path / "s.json").read_text())["counts"]
    assert counts["train_records"] == len(splits["train"]) and counts["duplicate_groups"] > 0


def test_seed_makes_it_reproducible_and_changes_it(tmp_path):
    a = run_split(tmp_path)
    assert run_split(tmp_path) == a
    assert run_split(tmp_path, "--seed", "7") != a


def test_fractions(tmp_path):
    splits = run_split(tmp_path, "--fractions", "0.5,0.25,0.25")
    n = sum(len(p) for p in splits.values())
    assert abs(len(splits["val"]) - n / 4) <= 2


def test_integer_targets_within_one():
    for n in (0, 1, 7, 100, 1001):
        t = integer_targets(n, [0.7, 0.15, 0.15])
        assert t.sum() == n and all(abs(t - [0.7 * n, 0.15 * n, 0.15 * n]) <= 1)


def test_groups_stay_together_in_the_library_function():
    import numpy as np

    group = np.array([0, 0, 0, 3, 4, 4, 6, 7, 8, 9])
    label = np.array([1, 1, 1, 0, 0, 0, 1, 0, 1, 0])
    for seed in range(5):
        split = stratified_split(group, label, [0.6, 0.2, 0.2], seed)
        assert len(set(split[[0, 1, 2]])) == 1 and split[4] == split[5]


def test_chromosome_holdout(tmp_path):
    path, recs = dataset(tmp_path)
    splits = run_split(tmp_path, "--holdout-chroms", "val=chr2", "--holdout-chroms", "test=chr3,chr4", inputs=path)
    moved = json.loads((tmp_path / "s.json").read_text())["counts"]["moved_to_keep_groups_together"]
    chrom = lambda h: h.split("region=")[1].split(":")[0]  # noqa: E731
    wrong = sum(chrom(h) not in ("chr1", "chr5") for h, _ in splits["train"])
    wrong += sum(chrom(h) != "chr2" for h, _ in splits["val"]) + sum(chrom(h) not in ("chr3", "chr4") for h, _ in splits["test"])
    assert wrong == moved and moved > 0
    assert not keys_of(splits["train"]) & keys_of(splits["test"])


def test_holdout_needs_regions(tmp_path):
    path = write_fasta(tmp_path / "d.fa", [("a label=1 region=chr1:1-5", "ACGT"), ("b label=0", "GGGA")])
    res = invoke(main, [path, "--train", tmp_path / "a", "--val", tmp_path / "b", "--test", tmp_path / "c",
                        "--holdout-chroms", "test=chr1"])
    assert res.exit_code == 2 and "d.fa:3: --holdout-chroms needs region=" in res.output


@pytest.mark.skipif(shutil.which("vsearch") is None, reason="vsearch not installed")
def test_near_duplicate_groups_never_straddle(tmp_path):
    rng = random.Random(4)
    recs = []
    for i in range(30):
        s = random_seq(rng, 150)
        recs.append((f"f{i} label={i % 2}", s))
        t = list(reverse_complement(s))
        t[10] = "A" if t[10] != "A" else "C"
        recs.append((f"g{i} label={i % 2}", "".join(t)))
    path = write_fasta(tmp_path / "d.fa", recs)
    splits = run_split(tmp_path, "--group-near-duplicates", "0.9", inputs=path)
    where = {h.split()[0]: n for n, part in splits.items() for h, _ in part}
    assert all(where[f"f{i}"] == where[f"g{i}"] for i in range(30))


@pytest.mark.parametrize("args, message", [
    (["--fractions", "0.5,0.5"], "three non-negative numbers"),
    (["--holdout-chroms", "dev=chr1"], "val=CHR"),
    (["--holdout-chroms", "val=chr1", "--holdout-chroms", "test=chr1"], "both val and test"),
    (["--holdout-chroms", "val=chr1", "test=chr2"], "give each hold-out its own option"),
])
def test_bad_options(tmp_path, args, message):
    path = dataset(tmp_path)[0]
    res = invoke(main, [path, "--train", tmp_path / "a", "--val", tmp_path / "b", "--test", tmp_path / "c", *args])
    assert res.exit_code == 2 and message in res.output
    assert not (tmp_path / "a").exists()


def test_duplicate_ids_are_an_error(tmp_path):
    path = write_fasta(tmp_path / "d.fa", [("a label=1", "ACGT"), ("a label=0", "GGGA")])
    res = invoke(main, [path, "--train", tmp_path / "a", "--val", tmp_path / "b", "--test", tmp_path / "c"])
    assert res.exit_code == 2 and "d.fa:3: duplicate record id" in res.output


def test_missing_labels_and_outputs(tmp_path):
    path = write_fasta(tmp_path / "d.fa", [("a label=1", "ACGT"), ("b", "GGGA")])
    res = invoke(main, [path, "--train", tmp_path / "a", "--val", tmp_path / "b", "--test", tmp_path / "c"])
    assert res.exit_code == 2 and "d.fa:3: record has no label=" in res.output
    res = invoke(main, [path, "--train", tmp_path / "a"])
    assert res.exit_code == 2 and "--train, --val and --test" in res.output


def test_two_way_split_without_test_output(tmp_path):
    path, recs = dataset(tmp_path)
    outs = {n: tmp_path / f"{n}.fa" for n in ("train", "val")}
    res = invoke(main, [path, "--train", outs["train"], "--val", outs["val"], "--fractions", "0.85,0.15,0",
                        "--json", tmp_path / "s.json"])
    assert res.exit_code == 0, res.output
    parts = {n: read_records(p) for n, p in outs.items()}
    assert sum(len(p) for p in parts.values()) == len(recs)
    assert json.loads((tmp_path / "s.json").read_text())["counts"]["test_records"] == 0


def test_test_output_needed_when_its_share_is_not_zero(tmp_path):
    path, _ = dataset(tmp_path)
    res = invoke(main, [path, "--train", tmp_path / "t.fa", "--val", tmp_path / "v.fa"])
    assert res.exit_code == 2 and "--test" in res.output
    assert not (tmp_path / "t.fa").exists()
