"""fasta-rc-dedup label conflicts: the same canonical sequence with different labels."""

import json

import pytest

from dataset_helpers import invoke, read_records, write_fasta
from enhancer_tools.cli.fasta_rc_dedup import main

RECORDS = [
    ("g1 label=0", "ACGTTGCAAATC"), ("g2 label=1", "GATTTGCAACGT"), ("g3 label=1", "acgttgcaaatc"),  # 1 vs 2: majority 1
    ("t1 label=0", "GGGGCCCCAAAT"), ("t2 label=1", "ATTTGGGGCCCC"),  # tie
    ("u1 label=1", "TTTTTTTTTTTG"), ("u2 label=1", "CAAAAAAAAAAA"),  # no conflict
    ("solo label=0", "CATCATCATCAT"),
]


def run(tmp_path, policy):
    a = write_fasta(tmp_path / "a.fa", RECORDS)
    res = invoke(main, [a, "-o", tmp_path / "out.fa", "--conflicts", policy, "--json", tmp_path / "s.json",
                        "--clusters", tmp_path / "c.tsv"])
    assert res.exit_code == 0, res.output
    ids = [h.split()[0] for h, _ in read_records(tmp_path / "out.fa")]
    return ids, json.loads((tmp_path / "s.json").read_text())["counts"]


def test_drop_is_the_default_and_counts(tmp_path):
    ids, c = run(tmp_path, "drop")
    assert ids == ["u1", "solo"]
    assert c["label_conflict_groups"] == 2 and c["records_dropped_for_conflicts"] == 5


def test_keep_first(tmp_path):
    ids, c = run(tmp_path, "keep-first")
    assert ids == ["g1", "t1", "u1", "solo"]
    assert c["label_conflict_groups"] == 2 and c["records_dropped_for_conflicts"] == 0


def test_majority_keeps_first_record_of_the_winning_label_and_drops_ties(tmp_path):
    ids, c = run(tmp_path, "majority")
    assert ids == ["g2", "u1", "solo"]
    assert c["records_dropped_for_conflicts"] == 2
    rows = [line.split("\t") for line in (tmp_path / "c.tsv").read_text().splitlines()[1:]]
    kept = {r[1]: r[6] for r in rows}
    assert kept == {"g1": "no", "g2": "yes", "g3": "no", "t1": "no", "t2": "no", "u1": "yes", "u2": "no"}


@pytest.mark.parametrize("policy", ["drop", "keep-first", "majority"])
def test_unlabelled_inputs_never_conflict(tmp_path, policy):
    a = write_fasta(tmp_path / "a.fa", [("x", "ACGTAA"), ("y", "TTACGT"), ("z", "acgtaa")])
    res = invoke(main, [a, "-o", tmp_path / "out.fa", "--conflicts", policy])
    assert res.exit_code == 0, res.output
    assert read_records(tmp_path / "out.fa") == [("x", "ACGTAA")]
