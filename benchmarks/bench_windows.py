#!/usr/bin/env python3
"""Benchmark bed-summit-window against awk + bedtools getfasta -s, and background-windows.

usage: python benchmarks/bench_windows.py [--scale small|full] [--reps 3] [--out benchmarks/results/windows.md]

Data: ../shared/bench/make_data.py (genome + peaks only) into /tmp/bench-data/windows-<scale>/.
Each tool runs under /usr/bin/time (wall, peak RSS, CPU), anchor and ours alternating, on
page-cached inputs. Windows: W=1000, clip at chromosome ends, '-' strand reverse-complemented
(the harness's PROJECT_WINDOWS_CMD contract); ours is run with --max-n-frac 1 so that it
keeps what the anchor keeps, and its output is checked against the anchor's by the set of
distinct sequences (ours also drops duplicate windows). Background: 1 window per positive
window (GC-matched, 20 bins), excluding the first 50,000 positive windows.
"""

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
BIN = Path(sys.executable).parent


def timed(cmd: str, log: Path) -> dict:
    """Run ``cmd`` in bash under /usr/bin/time; wall s, peak RSS MB, CPU s."""
    tf = log.with_suffix(".time")
    with open(log, "w") as fh:
        rc = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(tf), "bash", "-c", cmd], stdout=fh, stderr=subprocess.STDOUT).returncode
    wall, rss, user, sys_ = tf.read_text().split()[-4:]
    return {"rc": rc, "wall": float(wall), "rss_mb": int(rss) / 1024, "cpu": float(user) + float(sys_)}


def sequence_set_digest(path: Path) -> tuple[int, str]:
    seen = set()
    with open(path, "rb") as fh:
        for line in fh:
            if not line.startswith(b">"):
                seen.add(hashlib.blake2b(line, digest_size=16).digest())
    return len(seen), hashlib.blake2b(b"".join(sorted(seen)), digest_size=8).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "full"], default="small")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "windows.md"))
    ap.add_argument("--exclude-n", type=int, default=50_000, help="positive windows excluded from the background")
    args = ap.parse_args()
    for tool in ("bedtools", "awk", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(f"missing {tool}")
    data = Path(f"/tmp/bench-data/windows-{args.scale}")
    genome, peaks, sizes = data / "genome.fa", data / "peaks.narrowPeak", data / "genome.chrom.sizes"
    if not peaks.exists():
        subprocess.run([sys.executable, str(BENCH / "make_data.py"), "--scale", args.scale, "--seed", "1", "--skip", "seqs",
                        "--out-dir", str(data)], check=True)
    runs = data / "runs" / time.strftime("%Y%m%d-%H%M%S")
    runs.mkdir(parents=True)
    n_peaks = sum(1 for _ in open(peaks))
    anchor = (f"awk -v W=1000 -v MODE=clip -f {BENCH}/windows.awk {sizes} {peaks} > {runs}/anchor.bed && "
              f"bedtools getfasta -fi {genome} -bed {runs}/anchor.bed -s -name > {runs}/anchor.fa")
    ours = (f"{BIN}/bed-summit-window {peaks} -g {genome} --width 1000 --edge clip --strand-aware --max-n-frac 1 "
            f"--quiet -o {runs}/ours.fa --bed {runs}/ours.bed")
    subprocess.run(f"cat {genome} {peaks} > /dev/null", shell=True, check=True)
    results = {"awk+bedtools": [], "bed-summit-window": []}
    for rep in range(args.reps):
        for name, cmd in (("awk+bedtools", anchor), ("bed-summit-window", ours)):
            r = timed(cmd, runs / f"{name}.{rep}.log")
            results[name].append(r)
            print(f"{name} rep {rep + 1}: {r}", flush=True)
    same = sequence_set_digest(runs / "anchor.fa") == sequence_set_digest(runs / "ours.fa")
    with open(runs / "ours.bed") as src, open(runs / "exclude.bed", "w") as dst:
        for i, line in enumerate(src):
            if i == args.exclude_n:
                break
            dst.write(line)
    bg_cmd = (f"{BIN}/background-windows -g {genome} --exclude {runs}/exclude.bed --like {runs}/ours.fa --ratio 1 "
              f"--width 1000 --seed 1 --quiet -o {runs}/bg.fa --json {runs}/bg.json")
    bg = timed(bg_cmd, runs / "background.log")
    print(f"background-windows: {bg}", flush=True)
    import json
    bg_counts = json.loads((runs / "bg.json").read_text())["counts"] if bg["rc"] == 0 else {}

    def row(name, rs, base):
        walls = [r["wall"] for r in rs]
        med = statistics.median(walls)
        return (f"| {name} | {n_peaks:,} | {len(rs)} | {med:.2f} ({min(walls):.2f}–{max(walls):.2f}) | "
                f"{statistics.median(r['cpu'] for r in rs):.2f} | {max(r['rss_mb'] for r in rs):.0f} MB | "
                f"{base / med:.2f}x |")

    base = statistics.median(r["wall"] for r in results["awk+bedtools"])
    load = os.getloadavg()
    lines = [
        f"# Windows benchmark ({args.scale}, {time.strftime('%Y-%m-%d %H:%M')})", "",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the two tools alternate: compare "
        "the ratio within this run). Data: `make_data.py --scale "
        f"{args.scale} --seed 1`. Raw logs: `{runs}`.", "",
        "| tool | peaks | runs | median wall s (min–max) | median CPU s | peak RSS | speed-up vs anchor |",
        "|---|---:|---:|---|---:|---:|---:|",
        row("awk + bedtools getfasta -s", results["awk+bedtools"], base),
        row("bed-summit-window --edge clip --strand-aware", results["bed-summit-window"], base), "",
        f"Check: the distinct window sequences of both outputs are {'identical' if same else 'DIFFERENT'} "
        "(ours also drops exact duplicate windows, which the anchor keeps).", "",
        f"background-windows: {bg_counts.get('windows_written', 'failed')} GC-matched windows "
        f"(requested {bg_counts.get('windows_requested', '?')}, shortfall {bg_counts.get('shortfall', '?')}) in "
        f"{bg['wall']:.1f} s wall, {bg['cpu']:.1f} s CPU, peak RSS {bg['rss_mb']:.0f} MB "
        f"(excluding the first {args.exclude_n:,} positive windows).",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
