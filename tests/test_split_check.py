"""dataset-split --check: audit of an existing split (exact, reverse-complement and near
overlaps, class balance, length/GC differences), --strict exit code, real iEnhancer-2L data."""

import json
import random
import shutil

import pytest

from dataset_helpers import SHARED_DATA, invoke, random_seq, write_fasta
from enhancer_tools.cli.dataset_split import main
from enhancer_tools.io.fasta import read_fasta
from enhancer_tools.seq import reverse_complement


def audit(tmp_path, *args):
    res = invoke(main, ["--check", *args, "--json", tmp_path / "a.json"])
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / "a.json").read_text())["audit"], res.output


def test_overlaps_counted_by_kind(tmp_path):
    rng = random.Random(1)
    seqs = [random_seq(rng, 50) for _ in range(6)]
    train = write_fasta(tmp_path / "train.fa", [(f"t{i} label={i % 2}", s) for i, s in enumerate(seqs)])
    test = write_fasta(tmp_path / "test.fa", [("x label=0", seqs[0].lower()), ("y label=0", reverse_complement(seqs[1])),
                                              ("z label=1", random_seq(rng, 50)), ("w label=1", seqs[2])])
    report, text = audit(tmp_path, train, test)
    (o,) = report["overlaps"]
    assert (o["earlier"], o["later"], o["exact"], o["reverse_complement"]) == ("train", "test", 2, 1)
    assert o["label_disagreements"] == 2  # y (0 here, 1 in train) and w (1 here, 0 in train)
    assert report["splits"]["test"]["per_class"] == {"0": 2, "1": 2}
    assert report["leaking_records"] == 3 and "leaking records: 3" in text


def test_strict_exits_non_zero_on_leakage(tmp_path):
    a = write_fasta(tmp_path / "a.fa", [("a label=1", "ACGTAAC")])
    b = write_fasta(tmp_path / "b.fa", [("b label=1", "GTTACGT")])
    res = invoke(main, ["--check", a, b, "--strict", "--json", tmp_path / "audit.json"])
    assert res.exit_code == 2 and "leakage between splits: 1 records" in res.output
    audit = json.loads((tmp_path / "audit.json").read_text())  # the report is kept for MultiQC
    assert audit["counts"]["leaking_records"] == 1
    c = write_fasta(tmp_path / "c.fa", [("c label=1", "GGGGGGA")])
    assert invoke(main, ["--check", a, c, "--strict"]).exit_code == 0


def test_length_and_gc_differences_between_classes(tmp_path):
    rng = random.Random(2)
    pos = [(f"p{i} label=1", random_seq(rng, 100, "GGGCCCAT")) for i in range(20)]
    neg = [(f"n{i} label=0", random_seq(rng, 60, "AAATTTGC")) for i in range(20)]
    report, _ = audit(tmp_path, write_fasta(tmp_path / "tr.fa", pos[:15] + neg[:15]), write_fasta(tmp_path / "te.fa", pos[15:] + neg[15:]))
    d = report["class_differences"]
    assert d["between"] == ["1", "0"] and d["length_mean_difference"] == 40
    assert d["length_cohens_d"] is None  # no spread within either class
    assert d["gc_mean_difference"] > 0.3 and d["gc_cohens_d"] > 2
    assert report["classes"]["1"]["length"]["mean"] == 100 and report["classes"]["0"]["length"]["mean"] == 60


@pytest.mark.skipif(shutil.which("vsearch") is None, reason="vsearch not installed")
def test_near_duplicate_overlaps(tmp_path):
    rng = random.Random(3)
    s = random_seq(rng, 200)
    near = s[:100] + ("A" if s[100] != "A" else "C") + s[101:]
    a = write_fasta(tmp_path / "a.fa", [("a label=1", s), ("b label=0", random_seq(rng, 200))])
    b = write_fasta(tmp_path / "b.fa", [("c label=1", reverse_complement(near)), ("d label=0", random_seq(rng, 200))])
    report, _ = audit(tmp_path, a, b, "--near-identity", "0.95")
    assert report["overlaps"][0]["near_duplicates"] == 1 and report["overlaps"][0]["exact"] == 0


def test_named_splits_with_several_files(tmp_path):
    a = write_fasta(tmp_path / "a.fa", [("a", "ACGTAAC")])
    b = write_fasta(tmp_path / "b.fa", [("b", "GGGTTTA")])
    c = write_fasta(tmp_path / "c.fa", [("c", "gttacgt")])
    report, _ = audit(tmp_path, f"train={a},{b}", f"test={c}", "--label-for", f"{a}=1", "--label-for", f"{b}=0",
                      "--label-for", f"{c}=1")
    assert report["splits"]["train"]["per_class"] == {"1": 1, "0": 1}
    assert report["overlaps"][0]["reverse_complement"] == 1


def test_check_needs_two_splits(tmp_path):
    a = write_fasta(tmp_path / "a.fa", [("a label=1", "ACGTAAC")])
    res = invoke(main, ["--check", a])
    assert res.exit_code == 2 and "at least two splits" in res.output


IENH = SHARED_DATA / "iEnhancer-2L_DCLA"
PARTS = {"strong_enhancers": "1", "weak_enhancers": "1", "non_enhancers": "0"}


@pytest.mark.realdata
@pytest.mark.skipif(not IENH.is_dir(), reason="../shared/data/iEnhancer-2L_DCLA is absent")
def test_ienhancer_2l_train_vs_test(tmp_path):
    files = {split: [IENH / f"{split}_{part}.txt" for part in PARTS] for split in ("train", "test")}
    labels = [a for split in files for p, lab in zip(files[split], PARTS.values()) for a in ("--label-for", f"{p}={lab}")]
    report, text = audit(tmp_path, *(f"{s}={','.join(map(str, ps))}" for s, ps in files.items()), *labels)

    def canon(split):  # independent computation: strand-canonical upper-case sequences
        out = {}
        for p in files[split]:
            for r in read_fasta(p):
                up = r.seq.upper()
                out.setdefault(min(up, reverse_complement(up)), []).append(up)
        return out

    train, test = canon("train"), canon("test")
    exact = sum(seq in train[key] for key, seqs in test.items() if key in train for seq in seqs)
    rc = sum(seq not in train[key] for key, seqs in test.items() if key in train for seq in seqs)
    (o,) = report["overlaps"]
    assert (o["exact"], o["reverse_complement"]) == (exact, rc)
    assert report["splits"]["train"]["per_class"] == {"1": 1484, "0": 1484}
    assert report["splits"]["test"]["per_class"] == {"1": 200, "0": 200}
    assert f"leaking records: {exact + rc}" in text
