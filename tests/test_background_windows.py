"""background-windows: GC matching, exclusion of positives/blacklist/N, determinism, errors."""

import json
import random

import pytest

from enhancer_tools.cli.background_windows import main
from genome_fixtures import invoke, read_fasta_pairs, write_genome, write_text


def gc_of(seq):
    s = seq.upper()
    return (s.count("G") + s.count("C")) / max(1, sum(s.count(b) for b in "ACGT"))


@pytest.fixture
def setup(tmp_path):
    rng = random.Random(7)
    # chrA alternates AT-rich and GC-rich 1 kb blocks; chrB is AT-rich with an N gap.
    chr_a = "".join("".join(rng.choice("AATTC" if i % 2 else "GGCCA") for _ in range(1000)) for i in range(40))
    chr_b = "".join(rng.choice("AATTG") for _ in range(20000)) + "N" * 3000 + "".join(rng.choice("AATTG") for _ in range(7000))
    genome = write_genome(tmp_path, {"chrA": chr_a, "chrB": chr_b}, width=60)
    positives = "".join(f">p{i} label=1 region=chrA:{s}-{s + 200}(.)\n{chr_a[s:s + 200]}\n" for i, s in enumerate([0, 1000, 2000, 4000, 5000, 30000]))
    like = write_text(tmp_path / "pos.fa", positives)
    exclude = write_text(tmp_path / "pos.bed", "chrA\t0\t200\nchrA\t1000\t1200\nchrA\t2000\t2200\nchrA\t4000\t4200\nchrA\t5000\t5200\nchrA\t30000\t30200\n")
    return tmp_path, genome, like, exclude


def run(tmp_path, genome, like, exclude, *extra, out="bg.fa"):
    res = invoke(main, ["-g", genome, "--like", like, "--exclude", exclude, "--width", 200, "-o", tmp_path / out,
                        "--bed", tmp_path / (out + ".bed"), "--json", tmp_path / (out + ".json"), *extra])
    assert res.exit_code == 0, res.output
    return read_fasta_pairs(tmp_path / out), json.loads((tmp_path / (out + ".json")).read_text())


def test_gc_histogram_matched_and_reported(setup):
    recs, info = run(*setup, "--ratio", 3, "--gc-bins", 10)
    hist = info["gc_histogram"]
    assert len(recs) == 18 and info["counts"]["shortfall"] == 0
    assert hist["background"] == [3 * n for n in hist["like"]]
    assert sum(hist["genome_candidates"]) > 18
    for header, seq in recs:
        assert len(seq) == 200 and " label=0 region=" in header and header.startswith("bg_")
    bins = [0] * 10
    for _, seq in recs:
        bins[min(int(gc_of(seq) * 10), 9)] += 1
    assert bins == hist["background"]


def test_excludes_positives_with_margin_blacklist_and_n(setup):
    tmp_path, genome, like, exclude = setup
    write_text(tmp_path / "bl.bed", "chrA\t10000\t20000\n")
    recs, _ = run(tmp_path, genome, like, exclude, "--ratio", 5, "--margin", 300, "--blacklist", tmp_path / "bl.bed",
                  "--gc-bins", 2)
    for line in (tmp_path / "bg.fa.bed").read_text().splitlines():
        chrom, s, e = line.split("\t")[:3]
        s, e = int(s), int(e)
        if chrom == "chrA":
            assert not (10000 - 200 < s < 20000)
            for p in (0, 1000, 2000, 4000, 5000, 30000):
                assert e <= p - 300 or s >= p + 200 + 300
        else:
            assert e <= 20000 + 20 or s >= 23000 - 20  # at most 10% N


def test_same_seed_same_output_other_seed_differs(setup):
    tmp_path = setup[0]
    run(*setup, "--seed", 5, out="a.fa")
    run(*setup, "--seed", 5, out="b.fa")
    run(*setup, "--seed", 6, out="c.fa")
    assert (tmp_path / "a.fa").read_text() == (tmp_path / "b.fa").read_text() != (tmp_path / "c.fa").read_text()


def test_match_chroms_keeps_positive_chromosomes(setup):
    recs, _ = run(*setup, "--match-chroms", "--gc-bins", 1)
    assert {h.split("region=")[1].split(":")[0] for h, _ in recs} == {"chrA"}


def test_unfillable_bins_are_a_shortfall_not_an_error(setup):
    tmp_path, genome, like, exclude = setup
    normal = like.read_text().splitlines()[:2]
    write_text(tmp_path / "gc.fa", ">x label=1\n" + "GC" * 100 + "\n" + "\n".join(normal) + "\n")
    recs, info = run(tmp_path, genome, tmp_path / "gc.fa", exclude, "--gc-bins", 10)
    assert info["counts"]["shortfall"] == 1 and len(recs) == 1 and info["gc_histogram"]["shortfall"][-1] == 1


def test_everything_excluded_is_an_error(setup):
    tmp_path, genome, like, _ = setup
    write_text(tmp_path / "all.bed", "chrA\t0\t40000\nchrB\t0\t30000\n")
    res = invoke(main, ["-g", genome, "--like", like, "--exclude", tmp_path / "all.bed", "--width", 200, "-o", tmp_path / "x.fa"])
    assert res.exit_code == 2 and "no background window" in res.stderr and not (tmp_path / "x.fa").exists()
