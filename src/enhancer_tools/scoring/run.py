"""One score-regions run: load the model, build the input source, stream scored batches into the
writers, and fill the run info. All outputs are committed together, only on success."""

from __future__ import annotations

import logging
import math
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass

from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC, DEFAULT_WIDTH
from enhancer_tools.io.runinfo import RunInfo

log = logging.getLogger(__name__)


@dataclass
class ScoreRequest:
    """The options of score-regions (see its --help)."""

    model_dir: str
    output: str
    fasta: str | None = None
    bed: str | None = None
    tile: bool = False
    genome: str | None = None
    chroms: str | None = None
    step: int = 200
    width: int | None = None
    edge: str | None = None
    max_n_frac: float = DEFAULT_MAX_N_FRAC
    bed_out: str | None = None
    bedgraph: str | None = None
    bigwig: str | None = None
    rejects: str | None = None
    rc_average: bool = True
    threshold: float | None = None
    batch_size: int = 128
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    shard: str | None = None
    compile: bool = False
    static_shapes: bool = False  # implied by compile


def resolve_window(window: dict | None, width: int | None, edge: str | None) -> tuple[int, str]:
    """Window width and edge policy: the options, else the model directory's ``window`` info,
    else bed-summit-window's defaults (DEFAULT_WIDTH, drop)."""
    info = window or {}
    if width is None:
        width = info.get("width")
        if width is None:
            width = DEFAULT_WIDTH
            log.info("the model directory records no window width; using %d bp (set --width to change it)", width)
    return int(width), edge or info.get("edge") or "drop"


def score_regions(run: RunInfo, req: ScoreRequest) -> None:
    """Run score-regions end to end (see the CLI's --help)."""
    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs
    from enhancer_tools.scoring.sources import parse_shard
    from enhancer_tools.scoring.writers import require_pybigwig

    shard = parse_shard(req.shard)
    if req.bigwig and shard.count > 1:
        raise UserError("--bigwig cannot be split with --shard (a bigWig does not concatenate); write --bedgraph "
                        "per shard, concatenate, then convert with bedGraphToBigWig")
    if req.bigwig:
        require_pybigwig()
    outputs = [req.output, req.bed_out, req.bedgraph, req.bigwig, req.rejects]
    named = [p for p in outputs if p]
    if len({os.path.abspath(p) for p in named}) != len(named):
        raise UserError("two outputs have the same file name")
    refuse_overwriting_inputs(outputs, [req.fasta, req.bed, req.genome])
    run.add_input("model_config", _model_file(req.model_dir))
    run.add_input("fasta", req.fasta)
    run.add_input("regions", req.bed)
    run.add_input("genome", req.genome)

    import torch

    from enhancer_tools.models.precision import resolve_device
    from enhancer_tools.models.registry import load_model

    if req.threads:
        torch.set_num_threads(req.threads)
    device = resolve_device(req.device)
    precision = req.precision if req.precision != "auto" else ("bf16" if device.startswith("cuda") else "fp32")
    model = load_model(req.model_dir, device, precision)
    if req.compile or req.static_shapes:
        prepare_static_shapes(model.scorer, compile_model=req.compile)
    with tempfile.TemporaryDirectory(prefix="score-regions-") as tmp, AtomicOutputs() as out:
        _score(run, req, model, shard, tmp, out)
    run.outputs.update({"scores": req.output, "bed": req.bed_out, "bedgraph": req.bedgraph, "bigwig": req.bigwig,
                        "rejects": req.rejects})


def prepare_static_shapes(scorer, compile_model: bool) -> None:
    """The static-shape path of a torch scorer: token batches padded to multiples of 8 and run
    at their padded shape, so that only a few shapes occur; with ``compile_model``, the model
    (each encoder layer for DNABERT-2) is ``torch.compile``d with static shapes, one graph per
    bucket length, reused. A scorer without a torch model (k-mer) is left as it is."""
    model = getattr(scorer, "model", None)
    if model is None:
        if compile_model:
            log.warning("--compile: this model kind has no torch model; ignored")
        return
    if hasattr(getattr(scorer, "adapter", None), "pad_multiple"):
        scorer.adapter.pad_multiple = 8
    if hasattr(model, "set_unpad_tokens"):
        model.set_unpad_tokens(False)
    if not compile_model:
        return
    if hasattr(model, "compile_layers"):
        model.compile_layers(dynamic=False)
    else:
        import torch

        scorer.model = torch.compile(model, dynamic=False)


_DONE = object()


def write_in_background(batches, writers, depth: int = 4) -> tuple[int, int]:
    """Hand each scored batch to ``writers`` (in order) on a writer thread, so that formatting and
    writing the output overlaps the model's next batch; at most ``depth`` batches wait. Returns
    (sequences scored, calls). An error of a writer is raised here once the batches stop."""
    pending: queue.Queue = queue.Queue(maxsize=depth)
    failure: list[BaseException] = []

    def write() -> None:
        while (batch := pending.get()) is not _DONE:
            if failure:
                continue  # drain, so that the producer never blocks
            try:
                for writer in writers:
                    writer.write(batch)
            except BaseException as exc:  # re-raised in the calling thread
                failure.append(exc)

    thread = threading.Thread(target=write, name="score-regions-writer", daemon=True)
    thread.start()
    n_scored = n_called = 0
    try:
        for batch in batches:
            if failure:
                break
            pending.put(batch)
            n_scored += len(batch.records)
            n_called += int(batch.call.sum())
    finally:
        pending.put(_DONE)
        thread.join()
    if failure:
        raise failure[0]
    return n_scored, n_called


def _model_file(model_dir: str) -> str | None:
    from enhancer_tools.models.modeldir import CONFIG_JSON, MODEL_JSON

    for name in (MODEL_JSON, CONFIG_JSON):
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            return path
    return None


def _score(run: RunInfo, req: ScoreRequest, model, shard, tmp: str, out) -> None:
    from enhancer_tools.progress import progress
    from enhancer_tools.scoring.predict import Predictor
    from enhancer_tools.scoring.sources import DatasetSource, TileSource, bed_windows
    from enhancer_tools.scoring.writers import BedGraphWriter, BigWigWriter, CallsBedWriter, ScoresWriter

    width, edge = None, None
    if req.bed or req.tile:
        width, edge = resolve_window(model.window, req.width, req.edge)
        model_width = (model.window or {}).get("width")
        if model_width and width != model_width:
            log.warning("scoring %d bp windows with a model trained on %d bp windows", width, model_width)
    if req.fasta:
        source = DatasetSource(req.fasta)
    elif req.bed:
        from enhancer_tools.genome.reference import open_genome
        from enhancer_tools.genome.summit_windows import Rejects

        rejected = Rejects()
        source, window_counts = bed_windows(req.bed, open_genome(req.genome), tmp, width, edge, req.max_n_frac, rejected)
        run.counts.update(regions_read=window_counts["peaks_read"], regions_rejected=window_counts["rejected"],
                          rejects_by_reason=window_counts["rejects_by_reason"])
        if req.rejects:
            rejected.write(out.open(req.rejects), req.bed)
    else:
        from enhancer_tools.genome.reference import open_genome

        source = TileSource(open_genome(req.genome), width, req.step, req.chroms, req.max_n_frac)
        run.counts["chromosomes_tiled"] = sum(1 for n in source.tiles_per_chrom.values() if n)

    predictor = Predictor(model, req.batch_size, req.rc_average, req.threshold)
    writers = [ScoresWriter(out.open(req.output), source.has_labels)]
    if req.bed_out:
        writers.append(CallsBedWriter(out.open(req.bed_out), req.fasta))
    if req.bedgraph:
        writers.append(BedGraphWriter(out.open(req.bedgraph), width, req.step))
    bigwig = BigWigWriter(out.path(req.bigwig), source.sizes, width, req.step) if req.bigwig else None
    if bigwig is not None:
        writers.append(bigwig)

    lo, hi = shard.block(source.count)
    started = time.perf_counter()
    try:
        batches = progress(predictor.score(source.records(shard)), "scoring", math.ceil((hi - lo) / req.batch_size),
                           "batch")
        n_scored, n_called = write_in_background(batches, writers)
    finally:
        if bigwig is not None:
            bigwig.close()
    seconds = time.perf_counter() - started
    if n_scored == 0:
        log.warning("nothing was scored%s", f" in shard {shard.index}/{shard.count}" if shard.count > 1 else "")

    run.counts.update(input_records=source.count, shard_records=hi - lo, sequences_scored=n_scored, calls=n_called)
    if req.tile:
        run.counts["tiles_skipped_n"] = source.skipped_n
    run.extra.update({
        "model": {"kind": model.kind, "path": os.path.abspath(req.model_dir), "plain_hf": bool(model.info.get("plain_hf")),
                  "max_tokens": model.max_tokens, "window": model.window},
        "threshold": predictor.threshold,
        "model_threshold": float(model.calibration.threshold),
        "temperature": predictor.temperature,
        "rc_average": req.rc_average,
        "window": {"width": width, "edge": edge if req.bed else None, "step": req.step if req.tile else None},
        "device": str(getattr(model.scorer, "device", "cpu")),
        "precision": getattr(model.scorer, "precision", "fp32"),
        "compile": req.compile,
        "shard": {"index": shard.index, "count": shard.count, "first_record": lo, "end_record": hi},
        "seconds": round(seconds, 3),
        "sequences_per_s": round(n_scored / seconds, 1) if seconds > 0 else None,
    })
    log.info("%d sequences scored (%.1f/s), %d called at threshold %.4g", n_scored,
             n_scored / seconds if seconds > 0 else 0.0, n_called, predictor.threshold)
