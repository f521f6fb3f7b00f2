"""bpe-train at study scale, against the anchors of ../shared/bench (ANCHORS.md), and the check
that the default training sample is big enough.

    python ../shared/bench/make_data.py --scale full --out-dir /tmp/bench-data/full   # once
    python benchmarks/bench_bpe.py sufficiency   # train on 12.5 k .. 200 k, tokens/kb on held-out seqs
    python benchmarks/bench_bpe.py full          # bpe-train on all 2.34 M, then both anchors

Every command runs under /usr/bin/time -v; peak memory is also polled as the sum over the
process tree (bpe-train's length statistics run in worker processes). Rows are appended as
JSON lines to --work/rows.jsonl and printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHOR_DIR = ROOT.parent / "shared" / "bench"
BIN = Path(sys.executable).parent


def _tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def timed(name: str, cmd: list[str], work: Path) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall seconds, biggest-process and whole-tree peak RSS."""
    time_file = work / f"{name}.time"
    log_file = work / f"{name}.log"
    started = time.time()
    with open(log_file, "w") as log:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", str(time_file), *cmd], stdout=log, stderr=log)
        tree_peak = 0
        while proc.poll() is None:
            tree_peak = max(tree_peak, _tree_rss_kb(proc.pid))
            time.sleep(0.5)
    wall = time.time() - started
    text = time_file.read_text() if time_file.exists() else ""
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = re.search(r"Percent of CPU this job got: (\d+)%", text)
    row = {"name": name, "rc": proc.returncode, "seconds": round(wall, 1),
           "peak_rss_mb": int(peak[1]) // 1024 if peak else None, "tree_peak_rss_mb": tree_peak // 1024,
           "cpu_percent": int(cpu[1]) if cpu else None, "log": str(log_file), "load_avg_after": os.getloadavg()[0]}
    if proc.returncode != 0:
        row["error"] = log_file.read_text()[-500:]
    with open(work / "rows.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return row


def write_pool(seqs: Path, work: Path, pool: int, held_out: int, seed: int) -> tuple[Path, Path]:
    """A seeded uniform sample of the input split into a training pool and a held-out set."""
    from enhancer_tools.io.fasta import read_fasta
    from enhancer_tools.tokenize.bpe import reservoir_sample

    train_fa, eval_fa = work / "pool_train.fa", work / "held_out.fa"
    if train_fa.exists() and eval_fa.exists():
        return train_fa, eval_fa
    sample, _ = reservoir_sample(((r.id, r.seq) for r in read_fasta(seqs)), pool + held_out, seed)
    random.Random(seed).shuffle(sample)
    for path, part in ((eval_fa, sample[:held_out]), (train_fa, sample[held_out:])):
        with open(path, "w") as fh:
            fh.writelines(f">{rid}\n{seq}\n" for rid, seq in part)
    return train_fa, eval_fa


def train_one(args) -> None:
    """Sample and train only (no length statistics): one sufficiency point, in its own process
    so that its peak memory is measured alone."""
    from enhancer_tools.io.fasta import read_fasta
    from enhancer_tools.tokenize.bpe import reservoir_sample, save_tokenizer, train_bpe

    started = time.time()
    sample, _ = reservoir_sample((r.seq for r in read_fasta(args.seqs)), args.n, args.seed)
    tokenizer = train_bpe(sample, args.vocab, args.max_token_length)
    save_tokenizer(tokenizer, args.out)
    print(json.dumps({"train_seconds": round(time.time() - started, 1)}))


def sufficiency(args) -> None:
    """Tokens/kb on held-out sequences for vocabularies trained on samples of growing size."""
    work = args.work / "sufficiency"
    work.mkdir(parents=True, exist_ok=True)
    train_fa, eval_fa = write_pool(args.seqs, work, max(args.sizes), args.held_out, args.seed)
    results = {}
    for n in sorted(args.sizes):
        tok = work / f"tok{n}.json"
        row = timed(f"train_{n}", [sys.executable, __file__, "train-one", "--seqs", str(train_fa), "--n", str(n),
                                   "--seed", str(args.seed), "--vocab", str(args.vocab), "--out", str(tok)], work)
        if row["rc"] != 0:
            continue
        timed(f"eval_{n}", [str(BIN / "bpe-train"), "--stats-only", "--tokenizer", str(tok), str(eval_fa),
                            "--json", str(work / f"eval{n}.json")], work)
        held = json.loads((work / f"eval{n}.json").read_text())
        lengths = held["token_lengths"]
        results[n] = {"train_seconds": row["seconds"], "peak_rss_mb": row["peak_rss_mb"],
                      "load_avg": round(row["load_avg_after"], 1), "tokens_per_kb": lengths["tokens_per_kb"],
                      "median": lengths["tokens_per_sequence"]["median"],
                      "p99_9": lengths["tokens_per_sequence"]["p99_9"],
                      "longest_token_bp": held["tokenizer"]["longest_token_bp"]}
        (work / "summary.json").write_text(json.dumps(results, indent=1))
        print_sufficiency(results, args)


def print_sufficiency(results: dict, args) -> None:
    """The sufficiency table in markdown."""
    print(f"\nHeld-out: {args.held_out:,} sequences; vocabulary {args.vocab}; seed {args.seed}\n")
    print("| training sample | train s (wall) | peak RSS MB | load avg | tokens/kb held-out | median | p99.9 "
          "| longest token | vs 4x sample |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in results.items():
        big = results.get(4 * n)
        diff = f"{100 * (r['tokens_per_kb'] / big['tokens_per_kb'] - 1):+.2f}%" if big else "–"
        print(f"| {n:,} | {r['train_seconds']} | {r['peak_rss_mb']:,} | {r['load_avg']} | {r['tokens_per_kb']} | "
              f"{r['median']} | {r['p99_9']} | {r['longest_token_bp']} | {diff} |", flush=True)


def full(args) -> None:
    """bpe-train on every sequence, then the anchors: encode_batch (same tokenizer) and the raw
    HF trainer on 100 k sequences."""
    work = args.work / "full"
    work.mkdir(parents=True, exist_ok=True)
    ours = work / "tokenizer.json"
    timed("bpe_train_full", [str(BIN / "bpe-train"), str(args.seqs), "-o", str(ours), "--json",
                             str(work / "run.json"), "--max-length", "232"], work)
    info = json.loads((work / "run.json").read_text())
    print(json.dumps({k: info[k] for k in ("counts", "bpe", "timings")}, indent=1))
    print(json.dumps({k: v for k, v in info["token_lengths"].items() if k != "histogram"}, indent=1), flush=True)
    py = sys.executable
    encode_n = [] if args.encode_anchor_n is None else ["--n", str(args.encode_anchor_n)]
    timed("anchor_encode_batch", [py, str(ANCHOR_DIR / "tokenize_bench.py"), "--tokenizer", str(ours),
                                  str(args.seqs), *encode_n], work)
    timed("anchor_hf_trainer_100k", [py, str(ANCHOR_DIR / "bpe_train.py"), str(args.seqs), "--n", "100000",
                                     "--vocab", str(args.vocab), "-o", str(work / "anchor_tok.json")], work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["sufficiency", "full", "train-one"])
    ap.add_argument("--seqs", type=Path, default=Path("/tmp/bench-data/full/seqs.fa"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-data/full/bpe-bench"))
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000, 100_000])
    ap.add_argument("--held-out", type=int, default=50_000)
    ap.add_argument("--encode-anchor-n", type=int, default=None,
                    help="full: run the encode_batch anchor on the first N sequences only (default all)")
    ap.add_argument("--n", type=int, help="train-one: sample size")
    ap.add_argument("--out", type=Path, help="train-one: tokenizer.json to write")
    ap.add_argument("--max-token-length", type=int, default=32)
    args = ap.parse_args()
    if not args.seqs.is_file():
        sys.exit(f"{args.seqs} not found: run ../shared/bench/make_data.py --scale full first")
    if args.task != "train-one":
        args.work.mkdir(parents=True, exist_ok=True)
    {"sufficiency": sufficiency, "full": full, "train-one": train_one}[args.task](args)


if __name__ == "__main__":
    main()
