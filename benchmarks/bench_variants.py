"""Throughput of score-variants (variants/s) for the EnhancerNet CNN and a tiny DNABERT-2 (random
weights), against scoring the same REF and ALT windows with score-regions from a FASTA.

Data: a random 2 Mb genome and random variants (90% SNVs, 5% insertions, 5% deletions of 1-10
bp, a tenth of them with two ALTs), REF taken from the genome. The anchor's FASTA holds exactly
the windows score-variants scores (cut by the same library code, written before the clock
starts): what a user would otherwise build with bedtools and a script. Both tools run as
subprocesses (start-up, reading, writing included) with the same --batch-size, -j and strand
averaging, alternating (--repeats, best time of each) in the same run.

    python benchmarks/bench_variants.py --out benchmarks/results/variants.md [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import make_cnn, make_dnabert2

DATA = Path(os.environ.get("BENCH_DATA", "/tmp/bench-data")) / "variants"


def make_genome(path: Path, length: int = 2_000_000, seed: int = 3) -> str:
    rng = random.Random(seed)
    seq = "".join(rng.choices("ACGT", k=length))
    if path.exists():  # the same bytes for a seed; rewriting would make its .fai look stale
        return seq
    with open(path, "w") as fh:
        fh.write(">chr1\n")
        fh.writelines(seq[i:i + 60] + "\n" for i in range(0, length, 60))
    return seq


def make_vcf(path: Path, genome: str, n: int, seed: int = 4) -> None:
    rng = random.Random(seed)
    positions = sorted(rng.sample(range(2000, len(genome) - 2000), n))
    with open(path, "w") as fh:
        fh.write(f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(genome)}>\n"
                 "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i, p in enumerate(positions):
            kind = rng.random()
            if kind < 0.9:
                ref = genome[p]
                alts = rng.sample([b for b in "ACGT" if b != ref], 2 if rng.random() < 0.1 else 1)
            elif kind < 0.95:
                ref, alts = genome[p], [genome[p] + "".join(rng.choices("ACGT", k=rng.randint(1, 10)))]
            else:
                ref = genome[p:p + rng.randint(2, 11)]
                alts = [ref[0]]
            fh.write(f"chr1\t{p + 1}\tv{i}\t{ref}\t{','.join(alts)}\t.\t.\t.\n")


def windows_fasta(model_dir: Path, vcf: Path, genome: Path, out: Path) -> int:
    """The REF and ALT windows score-variants scores, as a FASTA; returns their number."""
    import tempfile

    from enhancer_tools.genome.reference import open_genome
    from enhancer_tools.models.modeldir import read_model_info
    from enhancer_tools.scoring.run import resolve_window
    from enhancer_tools.scoring.variant_source import VcfSource, WindowRule

    width, edge = resolve_window(read_model_info(str(model_dir)).get("window"), None, None)
    n = 0
    with tempfile.TemporaryDirectory() as tmp, open(out, "w") as fh:
        for item in VcfSource(str(vcf), open_genome(genome), tmp).items(WindowRule(width, edge)):
            for k, seq in enumerate([item.ref_seq, *item.alt_seqs]):
                if seq is not None:
                    fh.write(f">{item.vid}_{k}\n{seq}\n")
                    n += 1
    return n


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def bench(name: str, model_dir: Path, vcf: Path, genome: Path, n_variants: int, args) -> dict:
    bindir = Path(sys.executable).parent
    fasta = DATA / f"{name}_windows.fa"
    n_windows = windows_fasta(model_dir, vcf, genome, fasta)
    common = ["--batch-size", str(args.batch), "--device", args.device, "-j", str(args.threads), "--quiet"]
    variants = [str(bindir / "score-variants"), "--model", str(model_dir), "--vcf", str(vcf), "-g", str(genome),
                "-o", str(DATA / f"{name}.vcf.gz"), "--tsv", str(DATA / f"{name}.tsv"), *common]
    regions = [str(bindir / "score-regions"), "--model", str(model_dir), "--fasta", str(fasta),
               "-o", str(DATA / f"{name}_regions.tsv"), *common]
    times: dict[str, list[float]] = {"variants": [], "regions": []}
    for _ in range(args.repeats):  # alternating, best of each: a shared machine's load drifts
        times["variants"].append(run(variants))
        times["regions"].append(run(regions))
    t_variants, t_regions = min(times["variants"]), min(times["regions"])
    row = {"model": name, "variants": n_variants, "windows": n_windows, "score_variants_s": round(t_variants, 2),
           "score_regions_s": round(t_regions, 2), "variants_per_s": round(n_variants / t_variants, 1),
           "regions_variants_per_s": round(n_variants / t_regions, 1), "speedup": round(t_regions / t_variants, 2)}
    print(json.dumps(row), file=sys.stderr)
    return row


def write_markdown(rows: list[dict], path: Path, args) -> None:
    import torch

    load = os.getloadavg()
    lines = ["# score-variants throughput", "",
             (f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
             f"-j {args.threads}, device {args.device}, batch {args.batch}, best of {args.repeats} alternating runs. "
             f"Load average at the end {load[0]:.1f}."), "",
             ("| model | variants | windows | score-variants s | variants/s | score-regions on the windows s | "
             "variants/s | score-variants speed-up |"), "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['variants']} | {r['windows']} | {r['score_variants_s']} | {r['variants_per_s']} | "
              f"{r['score_regions_s']} | {r['regions_variants_per_s']} | {r['speedup']} |" for r in rows]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Markdown results file.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--n-cnn", type=int, default=2000)
    parser.add_argument("--n-tiny", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2, help="Alternating runs of each tool; the best counts.")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    genome = DATA / "genome.fa"
    seq = make_genome(genome)
    rows = []
    for name, model, n in (("enhancernet", make_cnn(DATA / "cnn"), args.n_cnn),
                           ("dnabert2 tiny", make_dnabert2(DATA / "dnabert2_tiny", None), args.n_tiny)):
        vcf = DATA / f"{name.replace(' ', '_')}.vcf"
        make_vcf(vcf, seq, n)
        rows.append(bench(name.replace(" ", "_"), model, vcf, genome, n, args))
    if args.out:
        write_markdown(rows, args.out, args)


if __name__ == "__main__":
    main()
