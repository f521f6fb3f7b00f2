"""fasta-rc-dedup --identity: near-duplicate collapse with vsearch (both strands)."""

import json
import random
import shutil

import pytest

from dataset_helpers import invoke, random_seq, read_records, write_fasta
from enhancer_tools.cli.fasta_rc_dedup import main
from enhancer_tools.dataset import near_duplicates
from enhancer_tools.seq import reverse_complement

needs_vsearch = pytest.mark.skipif(shutil.which("vsearch") is None, reason="vsearch not installed")


def mutate(seq, n, rng):
    s = list(seq)
    for i in rng.sample(range(len(s)), n):
        s[i] = "A" if s[i] != "A" else "C"
    return "".join(s)


@needs_vsearch
def test_near_duplicates_on_either_strand_are_collapsed(tmp_path):
    rng = random.Random(5)
    base = [random_seq(rng, 200) for _ in range(4)]
    records = [(f"b{i} label=1", s) for i, s in enumerate(base)]
    records += [("m0 label=1", mutate(base[0], 4, rng)), ("m1 label=1", reverse_complement(mutate(base[1], 3, rng)).lower())]
    a = write_fasta(tmp_path / "a.fa", records)
    res = invoke(main, [a, "-o", tmp_path / "out.fa", "--identity", "0.95", "--json", tmp_path / "s.json",
                        "--clusters", tmp_path / "c.tsv"])
    assert res.exit_code == 0, res.output
    assert [h.split()[0] for h, _ in read_records(tmp_path / "out.fa")] == ["b0", "b1", "b2", "b3"]
    assert json.loads((tmp_path / "s.json").read_text())["counts"]["near_duplicates"] == 2
    assert "m1\ta.fa" in (tmp_path / "c.tsv").read_text().replace(str(tmp_path) + "/", "")


@needs_vsearch
def test_near_duplicate_label_conflict_is_dropped(tmp_path):
    rng = random.Random(6)
    s = random_seq(rng, 200)
    a = write_fasta(tmp_path / "a.fa", [("x label=1", s), ("y label=0", mutate(s, 2, rng)), ("z label=0", random_seq(rng, 200))])
    assert invoke(main, [a, "-o", tmp_path / "out.fa", "--identity", "0.95"]).exit_code == 0
    assert [h.split()[0] for h, _ in read_records(tmp_path / "out.fa")] == ["z"]


def test_missing_vsearch_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(near_duplicates.shutil, "which", lambda name: None)
    a = write_fasta(tmp_path / "a.fa", [("x", "ACGT")])
    res = invoke(main, [a, "-o", tmp_path / "out.fa", "--identity", "0.9"])
    assert res.exit_code == 2 and "vsearch" in res.output and not (tmp_path / "out.fa").exists()
