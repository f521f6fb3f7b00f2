"""Windows on real data: yeast sacCer3 + HMMRATAC ATAC peaks against bedtools getfasta;
HCT116 CTCF narrowPeaks (parsing only; no hg38 sequence here)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from enhancer_tools.cli.bed_summit_window import main
from enhancer_tools.genome import windows as W
from enhancer_tools.genome.summit_windows import Rejects, build_peak_table
from enhancer_tools.io.intervals import read_intervals
from genome_fixtures import invoke, read_fasta_pairs

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
YEAST = DATA / "yeast_sacCer3_atac"
CTCF = DATA / "hct116_ctcf_motifpeeker"
pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def yeast_genome(tmp_path_factory):
    if not (YEAST / "chroms").is_dir():
        pytest.skip(f"real data not found at {YEAST}")
    path = tmp_path_factory.mktemp("yeast") / "sacCer3.fa"
    with open(path, "wb") as out:
        for fa in sorted((YEAST / "chroms").glob("*.fa")):
            out.write(fa.read_bytes())
    return path


@pytest.mark.parametrize("edge", ["clip", "drop", "shift"])
def test_yeast_windows_equal_bedtools_getfasta(yeast_genome, tmp_path, edge):
    if shutil.which("bedtools") is None:
        pytest.skip("bedtools is not installed")
    peaks = YEAST / "hmmratac_yeast500k_accessible_regions.narrowPeak"
    res = invoke(main, [peaks, "-g", yeast_genome, "-o", tmp_path / "w.fa", "--bed", tmp_path / "w.bed", "--edge", edge,
                        "--max-n-frac", 1, "--strand-aware", "--rejects", tmp_path / "r.tsv"])
    assert res.exit_code == 0, res.output
    ours = read_fasta_pairs(tmp_path / "w.fa")
    assert len(ours) > 1500
    theirs = subprocess.run(["bedtools", "getfasta", "-fi", str(yeast_genome), "-bed", str(tmp_path / "w.bed"), "-s"],
                            capture_output=True, text=True, check=True).stdout.split()[1::2]
    assert [seq for _, seq in ours] == theirs
    lengths = {len(seq) for _, seq in ours}
    assert lengths == {1000} if edge != "clip" else max(lengths) == 1000


@pytest.mark.parametrize("name", ["CTCF_ChIP_peaks.narrowPeak", "CTCF_TIP_peaks.narrowPeak"])
def test_hct116_ctcf_narrowpeaks_parse(name):
    path = CTCF / name
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    reference = list(read_intervals(path))
    rejects = Rejects()
    table = build_peak_table(str(path), {"chr10": 133_797_422}, W.ChromFilter(), rejects, None, 7)
    assert not rejects.rows and len(table.start) == len(reference) > 10
    assert table.start.tolist() == [iv.start for iv in reference]
    assert table.offset.tolist() == [iv.summit - iv.start for iv in reference]
    assert table.strength.tolist() == [iv.signal for iv in reference]
    assert all(iv.start <= iv.summit < iv.end for iv in reference)
