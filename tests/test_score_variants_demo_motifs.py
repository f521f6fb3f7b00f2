"""The issue's target on the demo genome: with a CNN trained on the demo, SNVs at the centres of
planted motif instances inside enhancer windows change the calibrated log-odds more (mean
|dlogit|) than SNVs in the same enhancers away from every motif.

The demo plants motif clusters around each peak's summit (within 150 bp) but does not report
the offsets, so the instances are found by their consensus (both strands, exact IUPAC match)
near the summit; control SNVs lie 200-450 bp from the summit, at least 25 bp from any match of
any motif (GATA6's short WGATAR included). ALT = the transition of REF.

The CNN: enhancernet-train's defaults as one network (``--replicates 1``) trained on the demo's 1 kb
summit windows for 10 epochs without early stopping (the shared ``demo_cnn`` fixture), seeds 1 and 2. Measured (800 sites of
each kind, 2-core AMD EPYC): seeds 1, 2, 3 give 3.48, 3.53, 4.28 (motif ~1.0, control ~0.27).
The ratio depends on the training: the same CNN at 500 bp gave 3.23 / 3.09 / 2.85 (10 epochs)
and 3.06 / 3.20 / 2.68 (20); 15 epochs with early stopping 2.15 / 2.98 / 4.79; `make demo`'s
CNN (1 kb, 4 epochs, undertrained for this) 1.78 / 1.91. The test asserts the issue's 3 for
each seed.
"""

import random
import re

import pytest
import torch
from click.testing import CliRunner
from score_helpers import read_tsv

from enhancer_tools.cli.score_variants import main as score_variants
from enhancer_tools.demo import MOTIFS
from enhancer_tools.io.fasta import read_fasta
from enhancer_tools.io.intervals import read_intervals
from enhancer_tools.seq import reverse_complement

SITES = 800  # of each kind, sampled (seeded) to keep scoring short
WIDTH = 1000  # the demo's window (scripts/run-demo.sh)
SEEDS = (1, 2)
RATIO = 3.0
_IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "[AG]", "Y": "[CT]", "S": "[CG]", "W": "[AT]", "K": "[GT]",
          "M": "[AC]", "N": "[ACGT]"}
_SWAP = {"A": "G", "C": "T", "G": "A", "T": "C"}  # transitions: a fixed, deterministic ALT


def _pattern(motif: str) -> re.Pattern:
    fwd = "".join(_IUPAC[c] for c in motif)
    rev = "".join(_IUPAC[c] for c in reverse_complement(motif))
    return re.compile(f"(?=({fwd}|{rev}))")


def _matches(seq: str, names) -> list[tuple[int, int]]:
    """(start, end) of every consensus match of the named motifs in ``seq`` (upper case)."""
    found = []
    for name in names:
        width = len(MOTIFS[name])
        found += [(m.start(), m.start() + width) for m in _pattern(MOTIFS[name]).finditer(seq)]
    return found


def _variants(genome: dict, peaks) -> tuple[list, list]:
    rng = random.Random(7)
    motif_snvs, control_snvs = [], []
    strong = [n for n in MOTIFS if n != "GATA6"]  # GATA6 (8 bp, 2 N) also matches by chance
    for chrom, summit in peaks:
        seq = genome[chrom].upper()
        lo = summit - 150
        for a, b in _matches(seq[lo:summit + 150], strong):
            centre = lo + (a + b) // 2
            motif_snvs.append((chrom, centre, seq[centre]))
        far = summit - 470
        near = [(far + a, far + b) for a, b in _matches(seq[far:summit + 470], MOTIFS)]
        for _ in range(3):
            pos = summit + rng.choice((-1, 1)) * rng.randint(200, 450)
            if all(pos < a - 25 or pos >= b + 25 for a, b in near) and seq[pos] in _SWAP:
                control_snvs.append((chrom, pos, seq[pos]))
    motif_snvs = [v for v in motif_snvs if v[2] in _SWAP]
    return rng.sample(motif_snvs, SITES), rng.sample(control_snvs, SITES)


def _write_vcf(path, snvs) -> None:
    with open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        fh.writelines(f"{chrom}\t{pos + 1}\tv{i}\t{ref}\t{_SWAP[ref]}\t.\t.\t.\n"
                      for i, (chrom, pos, ref) in enumerate(sorted(snvs)))


def _mean_abs_dlogit(path) -> float:
    header, rows = read_tsv(path)
    values = [abs(float(r[header.index("dlogit")])) for r in rows]
    return sum(values) / len(values)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two 1 kb CNN trainings and 3,200 windows
def test_motif_snvs_change_the_cnn_more_than_snvs_away_from_motifs(tmp_path, demo_cnn):
    folder, _ = demo_cnn(SEEDS[0], WIDTH)
    genome = {r.id: r.seq for r in read_fasta(folder / "demo" / "genome.fa")}
    peaks = [(iv.chrom, iv.start + int(iv.fields[9])) for iv in read_intervals(folder / "demo" / "peaks.narrowPeak")
             if int(iv.fields[9]) >= 0 and 600 < iv.start + int(iv.fields[9]) < len(genome[iv.chrom]) - 600]
    motif, control = _variants(genome, peaks)
    assert len(motif) == SITES and len(control) == SITES
    _write_vcf(tmp_path / "motif.vcf", motif)
    _write_vcf(tmp_path / "control.vcf", control)
    ratios = []
    for seed in SEEDS:
        _, model = demo_cnn(seed, WIDTH)
        mean = {}
        threads = torch.get_num_threads()
        try:
            for name in ("motif", "control"):
                tsv = tmp_path / f"{name}{seed}.tsv"
                result = CliRunner().invoke(score_variants, [
                    "--model", str(model), "--vcf", str(tmp_path / f"{name}.vcf"), "-g", str(folder / "demo" / "genome.fa"),
                    "-o", str(tmp_path / f"{name}{seed}.vcf.gz"), "--tsv", str(tsv), "-j", "2", "--quiet"],
                    catch_exceptions=False)
                assert result.exit_code == 0, result.output
                mean[name] = _mean_abs_dlogit(tsv)
        finally:
            torch.set_num_threads(threads)
        ratios.append(mean["motif"] / mean["control"])
        print(f"seed {seed}: mean |dlogit| motif {mean['motif']:.4f}, control {mean['control']:.4f} "
              f"({SITES} each), ratio {ratios[-1]:.2f}")
    assert min(ratios) >= RATIO
