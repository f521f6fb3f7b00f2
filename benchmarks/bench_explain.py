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
import itertools
import os
import platform
import random
import tempfile
import time
from pathlib import Path


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


def _wrapped(net):
    """The EnhancerNet with the [B, 1] output tangermeme expects."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[:, None]

    return Wrapped(net).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="1 kb windows")
    parser.add_argument("--rounds", type=int, default=4, help="alternations: the windows in this many chunks")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--naive", action="store_true", help="also time full-sequence ISM (both tools)")
    parser.add_argument("--out", default=None, help="Markdown table here")
    args = parser.parse_args()

    import numpy as np
    import torch
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    from enhancer_tools.interpret.ism import ism
    from enhancer_tools.models.attribution import one_hot
    from enhancer_tools.models.scorer import TorchScorer

    torch.set_num_threads(args.threads)
    rng = random.Random(1)
    seqs = ["".join(rng.choice("ACGT") for _ in range(1000)) for _ in range(args.n)]
    model = _model(Path(tempfile.mkdtemp(prefix="bench-explain-")) / "cnn")
    net = model.scorer.model.eval()
    wrapped = _wrapped(net)
    x = torch.from_numpy(np.stack([one_hot(s) for s in seqs]).astype("float32"))
    methods = {
        "explain-regions ISM (default)": lambda lo, hi: [ism(model, s, batch_size=args.batch_size) for s in seqs[lo:hi]],
        "tangermeme saturation_mutagenesis (fast=True)": lambda lo, hi: saturation_mutagenesis(
            wrapped, x[lo:hi], batch_size=args.batch_size, fast=True, device="cpu"),
    }
    if args.naive:
        full = dataclasses.replace(model, scorer=TorchScorer(net, model.scorer.adapter))
        methods["explain-regions ISM, every mutant scored in full"] = lambda lo, hi: [
            ism(full, s, batch_size=args.batch_size) for s in seqs[lo:hi]]
        methods["tangermeme saturation_mutagenesis (fast=False)"] = lambda lo, hi: saturation_mutagenesis(
            wrapped, x[lo:hi], batch_size=args.batch_size, fast=False, device="cpu")

    # Same numbers first: our effects against tangermeme's raw mutant outputs on one window.
    y0, y_hat = saturation_mutagenesis(wrapped, x[:1], batch_size=args.batch_size, fast=True, device="cpu",
                                       raw_outputs=True)
    theirs = (np.asarray(y_hat, dtype=np.float64).reshape(4, 1000) - float(np.asarray(y0).ravel()[0]))
    ours = ism(model, seqs[0])
    agreement = float(np.abs(ours - theirs * (1 - x[0].numpy())).max())
    print(f"max |ours - tangermeme| over 3,000 effects of window 1: {agreement:.2e}", flush=True)

    bounds = np.linspace(0, args.n, args.rounds + 1).astype(int)
    seconds = {label: [] for label in methods}
    for lo, hi in itertools.pairwise(bounds):
        for label, run in methods.items():
            start = time.perf_counter()
            run(lo, hi)
            seconds[label].append(time.perf_counter() - start)
            print(f"windows {lo}-{hi}: {label}: {seconds[label][-1]:.1f} s", flush=True)
    anchor = seconds["tangermeme saturation_mutagenesis (fast=True)"]
    load = os.getloadavg()
    machine = (f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
               f"{args.threads}; {args.n} x 1 kb windows in {args.rounds} alternating chunks, EnhancerNet defaults "
               f"(64/96/128 channels, random weights), batch {args.batch_size}; load average at the end "
               f"{load[0]:.1f}. Effects agree with tangermeme's mutant outputs to {agreement:.1e}.")
    table = [machine, "", "| method | seconds | s / window | speed / tangermeme fastISM (per-chunk range) |",
             "|---|---:|---:|---:|"]
    for label, secs in seconds.items():
        ratios = [a / b for a, b in zip(anchor, secs)]
        table.append(f"| {label} | {sum(secs):.1f} | {sum(secs) / args.n:.3f} | {sum(anchor) / sum(secs):.2f} "
                     f"({min(ratios):.2f}-{max(ratios):.2f}) |")
    print("\n".join(table))
    if args.out:
        Path(args.out).write_text("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
