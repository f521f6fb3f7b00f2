"""Throughput of score-regions (sequences/s) for the EnhancerNet CNN, a tiny DNABERT-2 and the
DNABERT-2-117M shape, all with random weights, on 1 kb random sequences.

For each model it times, in the same process:

- ``plain loop``: ``LoadedModel.logits`` over all sequences, forward strand only (encode
  everything, then batched forward passes; what a hand-written predict script does; the
  DNABERT-2 repository ships none, so this is the anchor);
- ``pipeline fwd``: score-regions' streaming ``Predictor`` with ``--no-rc-average`` (encoding in
  a producer thread overlapped with the model);
- ``pipeline rc``: the default, both strands (twice the model work);
- for the CNN also the whole CLI (start-up, FASTA pre-pass, TSV writing) via subprocess.

Data and model folders go to /tmp/bench-data/score (never the repository).

    python benchmarks/bench_score.py --out benchmarks/results/score.md
    python benchmarks/bench_score.py --device cuda --n-117m 350742 --batch-117m 1024   # GPU target run
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

DATA = Path(os.environ.get("BENCH_DATA", "/tmp/bench-data")) / "score"
SHARED_TOKENIZER = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"
REAL_CONFIG = SHARED_TOKENIZER.parent / "real_117M_config.json"


def random_fasta(path: Path, n: int, length: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seqs = ["".join(rng.choice("ACGT") for _ in range(length)) for _ in range(n)]
    with open(path, "w") as fh:
        for i, s in enumerate(seqs):
            fh.write(f">s{i} region=chr1:{i * length}-{(i + 1) * length}(.)\n{s}\n")
    return seqs


def tokenizer_path() -> Path:
    """The real DNABERT-2 tokenizer where ../shared is present, else a BPE trained here."""
    if SHARED_TOKENIZER.exists():
        return SHARED_TOKENIZER
    from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe

    path = DATA / "tokenizer.json"
    if not path.exists():
        rng = random.Random(0)
        save_tokenizer(train_bpe(["".join(rng.choice("ACGT") for _ in range(1000)) for _ in range(2000)], 4096), path)
    return path


def make_cnn(folder: Path) -> Path:
    import torch

    from enhancer_tools.models.enhancernet import EnhancerNet
    from enhancer_tools.models.kinds.enhancernet import EnhancerNetHyperparameters, architecture
    from enhancer_tools.models.modeldir import save_model_dir
    from enhancer_tools.metrics.calibration import Calibration

    if not (folder / "model.json").exists():
        torch.manual_seed(0)
        cfg = architecture(EnhancerNetHyperparameters())
        folder.mkdir(parents=True, exist_ok=True)
        save_model_dir(folder, kind="enhancernet", config=cfg.as_dict(), tensors=EnhancerNet(cfg).state_dict(),
                       calibration=Calibration(1.0, 0.5), provenance_info={"bench": True}, window={"width": cfg.width})
    return folder


def make_dnabert2(folder: Path, config: dict | None) -> Path:
    """A random DNABERT-2 in the plain Hugging Face layout: ``config`` None -> the tiny shape, a
    full config.json dict, or overrides of the tiny preset."""
    import torch

    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification

    if not (folder / "config.json").exists():
        torch.manual_seed(0)
        if config is None:
            cfg = DNABERT2Config.tiny()
        elif "vocab_size" in config:
            cfg = DNABERT2Config.from_dict(config)
        else:
            cfg = DNABERT2Config.tiny(**config)
        DNABERT2ForSequenceClassification(cfg).save_pretrained(folder, tokenizer_json=tokenizer_path())
    return folder


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_model(name: str, model_dir: Path, seqs: list[str], batch: int, device: str, precision: str) -> list[dict]:
    from enhancer_tools.models.registry import load_model
    from enhancer_tools.scoring.predict import Predictor
    from enhancer_tools.scoring.sources import ScoreRecord

    resolved = precision if precision != "auto" else ("bf16" if device.startswith("cuda") else "fp32")
    model = load_model(model_dir, device, resolved)
    records = [ScoreRecord(f"s{i}", s) for i, s in enumerate(seqs)]

    def pipeline(rc: bool) -> None:
        for _ in Predictor(model, batch, rc_average=rc).score(records):
            pass

    list(Predictor(model, batch, rc_average=False).score(records[:batch]))  # warm-up
    rows = []
    for mode, fn, strands in (("plain loop", lambda: model.logits(seqs, batch), 1),
                              ("pipeline fwd", lambda: pipeline(False), 1),
                              ("pipeline rc", lambda: pipeline(True), 2)):
        seconds = timed(fn)
        rows.append({"model": name, "mode": mode, "n": len(seqs), "batch": batch, "strands": strands,
                     "seconds": round(seconds, 3), "seq_per_s": round(len(seqs) / seconds, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def bench_cli(model_dir: Path, fasta: Path, n: int, batch: int) -> dict:
    exe = Path(sys.executable).with_name("score-regions")
    out = DATA / "cli_scores.tsv"
    seconds = timed(lambda: subprocess.run([str(exe), "--model", str(model_dir), "--fasta", str(fasta), "-o", str(out),
                                            "--batch-size", str(batch), "--quiet", "--device", "cpu"], check=True))
    row = {"model": "enhancernet", "mode": "CLI end to end (rc)", "n": n, "batch": batch, "strands": 2,
           "seconds": round(seconds, 3), "seq_per_s": round(n / seconds, 1)}
    print(json.dumps(row), file=sys.stderr)
    return row


def write_markdown(rows: list[dict], path: Path, args) -> None:
    import torch

    load = os.getloadavg()
    lines = [
        "# score-regions throughput",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, device {args.device}. Load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} (other helpers were using the same 2 cores, so absolute figures are noisy; "
        "ratios within one model were measured minutes apart in one process).",
        "",
        "Random weights, random 1 kb sequences (~232 DNABERT-2 tokens each with the real tokenizer). "
        "`plain loop` = `LoadedModel.logits` (encode all, then batched forward; forward strand only) is the "
        "anchor: DNABERT-2's repository has no predict script. `pipeline fwd` = score-regions' streaming "
        "Predictor with --no-rc-average; `pipeline rc` = the default (both strands: twice the model work).",
        "",
        "| model | mode | sequences | batch | seconds | sequences/s | x plain loop |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    base = {r["model"]: r["n"] / r["seconds"] for r in rows if r["mode"] == "plain loop"}
    for r in rows:
        rate = r["n"] / r["seconds"]
        ratio = rate / base[r["model"]] if r["model"] in base else float("nan")
        lines.append(f"| {r['model']} | {r['mode']} | {r['n']} | {r['batch']} | {r['seconds']} | {rate:.3g} | {ratio:.2f} |")
    lines += ["", "On 2 shared CPU cores the encoder thread competes with torch for the same cores, so overlapping "
              "encoding with the model gains nothing here (pipeline fwd is within noise of the plain loop); it "
              "matters where the model runs on a GPU. Reverse-complement averaging costs a second forward pass."]
    lines += ["", "GPU target (issue 9): at least 7,000 sequences/s for the 117M shape at 232 tokens in bf16 "
              "(350,742 sequences in under a minute). Not measured here: no GPU was lent to this session. Run "
              "`python benchmarks/bench_score.py --device cuda --n-117m 350742 --batch-117m 1024 --skip-small` "
              "where one is.", ""]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Markdown results file.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--n-cnn", type=int, default=2000)
    parser.add_argument("--n-tiny", type=int, default=1000)
    parser.add_argument("--n-117m", type=int, default=16)
    parser.add_argument("--batch-117m", type=int, default=8)
    parser.add_argument("--skip-small", action="store_true", help="Only the 117M shape.")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    if not args.skip_small:
        fasta = DATA / "cnn.fa"
        seqs = random_fasta(fasta, args.n_cnn, 1000, 1)
        cnn = make_cnn(DATA / "cnn")
        rows += bench_model("enhancernet", cnn, seqs, 128, args.device, args.precision)
        if args.device == "cpu":
            rows.append(bench_cli(cnn, fasta, args.n_cnn, 128))
        rows += bench_model("dnabert2 tiny", make_dnabert2(DATA / "dnabert2_tiny", None), seqs[: args.n_tiny], 64,
                            args.device, args.precision)
    # The real config.json where ../shared is present; the same shape from the tiny preset otherwise.
    big_shape = json.loads(REAL_CONFIG.read_text()) if REAL_CONFIG.exists() else {
        "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
    big = make_dnabert2(DATA / "dnabert2_117m", big_shape)
    seqs = random_fasta(DATA / "big.fa", args.n_117m, 1000, 2)
    rows += bench_model("dnabert2 117M shape", big, seqs, args.batch_117m, args.device, args.precision)
    if args.out:
        write_markdown(rows, args.out, args)


if __name__ == "__main__":
    main()
