"""ISM throughput of explain-regions against tangermeme's ``saturation_mutagenesis`` on the same
EnhancerNet CNN (random weights, the enhancernet-train default architecture at 1 kb) and the
same 1 kb random windows, in one process, CPU.

Timed, each over all windows:

- ``explain-regions ISM``: ``interpret.ism.ism`` per window, the default (RC-averaged; for this
  strand-symmetric model the reverse strand is not scored twice, see
  ``interpret.ism.strand_symmetric``), which for an EnhancerNet recomputes only the windows of
  each layer a substitution reaches (``models.enhancernet_ism``);
- ``tangermeme fastISM``: ``saturation_mutagenesis(model, X)`` with its default ``fast=True``;
- with ``--naive`` also: explain-regions scoring all 3,000 mutant sequences of a window in full
  (the path every other model kind takes) and tangermeme's ``fast=False``.

    python benchmarks/bench_explain.py --n 1000 --out benchmarks/results/explain.md
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _model(folder: Path):
    import torch

    from enhancer_tools.metrics.calibration import Calibration
    from enhancer_tools.models.enhancernet import EnhancerNet, EnhancerNetConfig
    from enhancer_tools.models.modeldir import save_model_dir
    from enhancer_tools.models.registry import load_model

    torch.manual_seed(0)
    folder.mkdir(parents=True)
    cfg = EnhancerNetConfig(width=1000)
    save_model_dir(folder, kind="enhancernet", config=cfg.as_dict(), tensors=EnhancerNet(cfg).eval().state_dict(),
                   calibration=Calibration(1.0, 0.5), provenance_info={"bench": True}, window={"width": 1000})
    return load_model(folder)


def _timed(label: str, func, rows: list) -> float:
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    rows.append((label, seconds))
    print(f"{label}: {seconds:.1f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="1 kb windows")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--naive", action="store_true", help="also time full-sequence ISM (both tools)")
    parser.add_argument("--out", default=None, help="Markdown table here")
    args = parser.parse_args()

    import torch

    from enhancer_tools.interpret.ism import ism
    from enhancer_tools.models.attribution import one_hot
    from enhancer_tools.models.scorer import TorchScorer

    torch.set_num_threads(args.threads)
    rng = random.Random(1)
    seqs = ["".join(rng.choice("ACGT") for _ in range(1000)) for _ in range(args.n)]
    model = _model(Path(tempfile.mkdtemp(prefix="bench-explain-")) / "cnn")
    net = model.scorer.model.eval()
    rows: list = []
    _timed("explain-regions ISM (default)", lambda: [ism(model, s, batch_size=args.batch_size) for s in seqs], rows)
    if args.naive:
        full = dataclasses.replace(model, scorer=TorchScorer(net, model.scorer.adapter))
        _timed("explain-regions ISM, every mutant scored in full", lambda: [
            ism(full, s, batch_size=args.batch_size) for s in seqs], rows)
    try:
        from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    except ImportError:
        print("tangermeme is not installed: pip install tangermeme", file=sys.stderr)
        saturation_mutagenesis = None
    if saturation_mutagenesis is not None:
        class Wrapped(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner(x)[:, None]

        wrapped = Wrapped(net).eval()
        x = torch.from_numpy(__import__("numpy").stack([one_hot(s) for s in seqs]).astype("float32"))
        for fast in (True, False) if args.naive else (True,):
            _timed(f"tangermeme saturation_mutagenesis (fast={fast})",
                   lambda fast=fast: saturation_mutagenesis(wrapped, x, batch_size=args.batch_size, fast=fast,
                                                            device="cpu"), rows)
    anchor = dict(rows).get("tangermeme saturation_mutagenesis (fast=True)")
    machine = (f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
               f"{args.threads}; {args.n} x 1 kb windows, EnhancerNet defaults (64/96/128 channels), batch "
               f"{args.batch_size}.")
    table = [machine, "", "| method | seconds | windows/s | speed / tangermeme fastISM |", "|---|---:|---:|---:|"]
    table += [f"| {label} | {sec:.1f} | {args.n / sec:.2f} | {anchor / sec if anchor else float('nan'):.2f} |"
              for label, sec in rows]
    print("\n".join(table))
    if args.out:
        Path(args.out).write_text("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
