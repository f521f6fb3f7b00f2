"""The synthetic demo data: deterministic, valid files, realistic composition, planted motifs."""

import difflib
import json
import re
import time
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from enhancer_tools.demo import SCALES, main, make_demo
from enhancer_tools.io.intervals import read_intervals
from enhancer_tools.seq import gc_fraction

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "test-data" / "demo_small"
FILES = ("genome.fa", "genome.fa.fai", "peaks.narrowPeak")
# Cores of the planted motifs and their reverse complements.
MOTIF_CORES = re.compile(r"ATCAAAG|CTTTGAT|TGA[CG]TCA|TTTAT[GT][AG]C|G[CT][AC]ATAAA|TCAAAG[GT]TCA|TGA[AC]CTTTGA")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_small")
    facts = make_demo(out, seed=1, scale="small")
    return out, facts


def _peaks(folder):
    return list(read_intervals(folder / "peaks.narrowPeak"))


def test_same_seed_gives_same_bytes(small, tmp_path):
    first, _ = small
    make_demo(tmp_path, seed=1, scale="small")
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_other_seed_differs(small, tmp_path):
    first, _ = small
    make_demo(tmp_path, seed=2, scale="small")
    assert (tmp_path / "genome.fa").read_bytes() != (first / "genome.fa").read_bytes()
    assert (tmp_path / "peaks.narrowPeak").read_bytes() != (first / "peaks.narrowPeak").read_bytes()


def test_committed_test_data_matches_generator(small):
    """test-data/demo_small is `python -m enhancer_tools.demo --out test-data/demo_small --scale small`."""
    first, _ = small
    for name in FILES:
        expected, got = (GOLDEN / name).read_bytes(), (first / name).read_bytes()
        if expected != got:
            diff = "".join(
                list(difflib.unified_diff(
                    expected.decode().splitlines(True), got.decode().splitlines(True), f"golden/{name}", f"generated/{name}"
                ))[:40]
            )
            pytest.fail(f"{name} differs from the committed test data; regenerate it if intended:\n{diff}")


def test_only_the_three_files_are_written(small):
    first, _ = small
    assert sorted(p.name for p in first.iterdir()) == sorted(FILES)


def test_genome_opens_with_pysam_and_matches_sizes(small):
    folder, facts = small
    with pysam.FastaFile(str(folder / "genome.fa")) as fa:
        assert list(fa.references) == list(facts["chromosomes"])
        assert dict(zip(fa.references, fa.lengths)) == facts["chromosomes"]
        assert len(fa.references) == len(SCALES["small"].chrom_lengths)
        assert sum(fa.lengths) == facts["genome_bp"]


def test_narrowpeak_has_ten_columns_sorted_and_unique_names(small):
    folder, facts = small
    lines = (folder / "peaks.narrowPeak").read_text().splitlines()
    assert len(lines) == facts["peaks"] == SCALES["small"].n_enhancers
    rows = [line.split("\t") for line in lines]
    assert all(len(r) == 10 for r in rows)
    assert all(r[5] == "." for r in rows)
    keys = [(r[0], int(r[1])) for r in rows]
    assert keys == sorted(keys)
    assert len({r[3] for r in rows}) == len(rows)


def test_summits_lie_inside_peaks_and_chromosomes(small):
    folder, facts = small
    peaks = _peaks(folder)
    sizes = facts["chromosomes"]
    with pysam.FastaFile(str(folder / "genome.fa")) as fa:
        for p in peaks:
            assert 0 <= p.start < p.end <= sizes[p.chrom]
            if p.summit is not None:
                assert p.start <= p.summit < p.end
                assert fa.fetch(p.chrom, p.summit, p.summit + 1).upper() in "ACGT"
    assert sum(p.summit is None for p in peaks) == SCALES["small"].n_no_summit


def test_some_peaks_sit_near_chromosome_ends(small):
    folder, facts = small
    sizes = facts["chromosomes"]
    near = [p for p in _peaks(folder) if p.summit is not None and min(p.summit, sizes[p.chrom] - p.summit) < 500]
    assert len(near) == SCALES["small"].n_edge_peaks == facts["edge_peaks"]


def test_composition_is_realistic(small):
    folder, facts = small
    with pysam.FastaFile(str(folder / "genome.fa")) as fa:
        seqs = {name: fa.fetch(name) for name in fa.references}
    whole = "".join(seqs.values())
    assert 0.37 < gc_fraction(whole) < 0.46
    assert facts["gc_fraction"] == pytest.approx(gc_fraction(whole), abs=1e-3)
    lower = sum(c.islower() for c in whole) / len(whole)
    assert 0.15 < lower < 0.5
    assert 0.005 < whole.count("N") / len(whole) < 0.1
    assert set(whole) <= set("ACGTNacgt")
    ends = [s[0] for s in seqs.values()] + [s[-1] for s in seqs.values()]
    assert "N" in ends, "some chromosome should start or end with an N gap"
    assert any(c != "N" for c in ends), "some chromosome ends should be sequence"
    # isochore-like variation: GC of 10 kb blocks is not constant
    blocks = [gc_fraction(whole[i : i + 10_000]) for i in range(0, len(whole) - 10_000, 10_000)]
    assert max(blocks) - min(blocks) > 0.04


def test_motif_cores_are_enriched_at_summits(small):
    folder, _ = small
    peaks = [p for p in _peaks(folder) if p.summit is not None]
    with pysam.FastaFile(str(folder / "genome.fa")) as fa:
        at_summits = sum(
            len(MOTIF_CORES.findall(fa.fetch(p.chrom, max(0, p.summit - 150), p.summit + 150).upper())) for p in peaks
        )
        elsewhere = sum(
            len(MOTIF_CORES.findall(fa.fetch(p.chrom, p.summit + 2000, p.summit + 2300).upper())) for p in peaks
        )
    assert at_summits / len(peaks) > 2.5
    assert at_summits > 3 * elsewhere


def test_cli_writes_files_and_run_info(tmp_path):
    args = ["--out", str(tmp_path / "d"), "--seed", "3", "--scale", "small", "--json", str(tmp_path / "run.json"), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(FILES)
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tool"] == "demo-data"
    assert info["parameters"]["seed"] == 3
    assert info["counts"]["peaks"] == SCALES["small"].n_enhancers


@pytest.mark.slow
def test_full_scale_is_fast_and_complete(tmp_path):
    t0 = time.perf_counter()
    facts = make_demo(tmp_path, seed=1)
    assert time.perf_counter() - t0 < 10
    assert 3_000_000 <= facts["genome_bp"] <= 4_000_000
    assert len(facts["chromosomes"]) == 4
    assert facts["peaks"] == 1200
    assert 0.39 < facts["gc_fraction"] < 0.43
    assert facts["edge_peaks"] >= 6
