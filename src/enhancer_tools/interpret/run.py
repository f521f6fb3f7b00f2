"""One explain-regions run: load the model, read the regions, compute ISM and/or integrated
gradients, optionally find motifs and match them, and write everything into OUT_DIR at once
(atomic; the output-folder rules of ``io.output_folder`` apply)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from enhancer_tools import __version__
from enhancer_tools.errors import UserError
from enhancer_tools.io.runinfo import RunInfo

log = logging.getLogger(__name__)

MARKER = "explain_regions.json"
METHODS = ("ism", "ig", "both")


@dataclass
class ExplainRequest:
    """The options of explain-regions (see its --help)."""

    model_dir: str
    output: str
    fasta: str | None = None
    bed: str | None = None
    genome: str | None = None
    method: str = "ism"
    top: int | None = None
    ids: str | None = None
    start: int | None = None
    end: int | None = None
    modisco: bool = False
    motifs: str = "JASPAR2024"
    tax_group: str = "vertebrates"
    steps: int = 32
    rc_average: bool = True
    plots: int = 5
    batch_size: int = 128
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    force: bool = False


@dataclass
class Explained:
    """Per-region results, aligned lists."""

    ids: list[str]
    seqs: list[str]
    logodds: np.ndarray
    offset: int
    ism: list[np.ndarray] = field(default_factory=list)
    ig: list[np.ndarray] = field(default_factory=list)
    ig_hypothetical: list[np.ndarray] = field(default_factory=list)
    regions: list | None = None  # genome coordinates of each region (--bed), for the bigWig tracks


def is_explain_folder(folder) -> bool:
    """Whether ``folder`` is an earlier explain-regions output (it holds our marker file)."""
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as fh:
            return json.load(fh).get("tool") == "explain-regions"
    except (OSError, ValueError, AttributeError):
        return False


def explain_regions(run: RunInfo, req: ExplainRequest) -> None:
    """Run explain-regions end to end (see the CLI's --help)."""
    from enhancer_tools.interpret.gradients import require_gradients
    from enhancer_tools.io.atomic import AtomicOutputs
    from enhancer_tools.io.output_folder import check_output_folder

    check_output_folder(req.output, [req.fasta, req.bed, req.genome, req.ids, req.model_dir,
                         req.motifs if os.path.isfile(req.motifs) else None],
                        force=req.force, is_ours=is_explain_folder, what="explain-regions output")
    motif_db = _motif_database(req) if req.modisco else None
    for role, path in (("fasta", req.fasta), ("regions", req.bed), ("genome", req.genome), ("ids", req.ids)):
        run.add_input(role, path)
    model = _load(req)
    if req.method in ("ig", "both"):
        require_gradients(model)
    with tempfile.TemporaryDirectory(prefix="explain-regions-") as tmp:
        ids, seqs, regions = _regions(run, req, model, tmp)
    result = _explain(req, model, ids, seqs)
    result.regions = regions
    patterns = _motifs(req, result, motif_db) if req.modisco else []
    with AtomicOutputs() as out:
        folder = out.directory(req.output, replace=req.force)
        _write(run, req, model, result, patterns, folder)
    run.counts.update(regions=len(ids), patterns=len(patterns),
                      patterns_matched=sum(1 for p in patterns if p.matches and p.matches[0].q < 0.05))
    run.outputs["folder"] = req.output


def _motif_database(req: ExplainRequest):
    from enhancer_tools.interpret.meme import JASPAR_RELEASE, read_jaspar, read_meme

    if req.motifs.upper().startswith("JASPAR"):
        return read_jaspar(req.motifs.upper() if req.motifs.upper() != "JASPAR" else JASPAR_RELEASE, req.tax_group)
    if not os.path.isfile(req.motifs):
        raise UserError(f"--motifs must be JASPAR2024 (or another JASPAR release) or a MEME file; no file {req.motifs}")
    return read_meme(req.motifs)


def _load(req: ExplainRequest):
    import torch

    from enhancer_tools.models.precision import resolve_device
    from enhancer_tools.models.registry import load_model

    if req.threads:
        torch.set_num_threads(req.threads)
    device = resolve_device(req.device)
    precision = req.precision if req.precision != "auto" else ("bf16" if device.startswith("cuda") else "fp32")
    return load_model(req.model_dir, device, precision)


def model_width(model) -> int | None:
    """The window the model was trained on (model.json's window, else an EnhancerNet's input width)."""
    width = (model.window or {}).get("width")
    if width is None and model.kind == "enhancernet":
        width = model.config.get("width")
    return int(width) if width else None


def _read_records(run: RunInfo, req: ExplainRequest, model, tmp: str) -> list:
    from enhancer_tools.scoring.run import resolve_window
    from enhancer_tools.scoring.sources import DatasetSource, bed_windows

    if req.fasta:
        return list(DatasetSource(req.fasta, keep_labels=False).records())
    from enhancer_tools.genome.reference import open_genome

    width, edge = resolve_window(model.window, None, None)
    source, counts = bed_windows(req.bed, open_genome(req.genome), tmp, width, edge, 1.0, None)
    run.counts.update(regions_read=counts["peaks_read"], regions_rejected=counts["rejected"])
    return list(source.records())


def _regions(run: RunInfo, req: ExplainRequest, model, tmp: str) -> tuple[list[str], list[str], list | None]:
    """The regions to explain: all, those of --ids, or the --top N by score; checked for length.
    Also their genome coordinates (``Region``s) when they were cut from --bed, else None."""
    from enhancer_tools.interpret.ism import strand_logodds

    records = _read_records(run, req, model, tmp)
    if req.ids:
        with open(req.ids, encoding="utf-8") as fh:
            wanted = [line.split()[0] for line in fh if line.strip() and not line.startswith("#")]
        by_id = {r.id: r for r in records}
        missing = [w for w in wanted if w not in by_id]
        if missing:
            raise UserError(f"{len(missing)} id(s) of --ids are not among the regions, e.g. {missing[0]!r}", req.ids)
        records = [by_id[w] for w in wanted]
    if not records:
        raise UserError("no regions to explain")
    width = model_width(model)
    short = [r for r in records if width and len(r.seq) < width]
    if short:
        raise UserError(f"region {short[0].id} is {len(short[0].seq)} bp, shorter than the model's {width} bp window "
                        f"({len(short)} region(s) too short); give windows of at least {width} bp")
    if req.top and req.top < len(records):
        z = strand_logodds(model, [r.seq for r in records], req.rc_average, req.batch_size)
        order = np.argsort(-z, kind="stable")[:req.top]
        records = [records[i] for i in sorted(order)]
    regions = [_genome_region(r) for r in records] if req.bed else None
    return [r.id for r in records], [r.seq for r in records], regions


def _genome_region(record):
    """The window's genome coordinates (forward strand, as --bed windows are cut) when they span
    exactly the record's bases, else None."""
    from enhancer_tools.io.dataset import Region

    if record.chrom is None or record.end - record.start != len(record.seq):
        return None
    return Region(record.chrom, record.start, record.end, "+")


def _slice(req: ExplainRequest, seqs: list[str]) -> tuple[int, int | None]:
    start = req.start or 0
    shortest = min(len(s) for s in seqs)
    end = req.end if req.end is not None else None
    if start >= (end if end is not None else shortest) or (end is not None and end > shortest):
        raise UserError(f"--start/--end [{start}, {end if end is not None else shortest}) do not fit in the "
                        f"shortest region ({shortest} bp)")
    return start, end


def _explain(req: ExplainRequest, model, ids: list[str], seqs: list[str]) -> Explained:
    from enhancer_tools.interpret.gradients import integrated_gradients
    from enhancer_tools.interpret.ism import ism, strand_logodds
    from enhancer_tools.progress import progress

    start, end = _slice(req, seqs)
    z = strand_logodds(model, seqs, req.rc_average, req.batch_size) / float(model.calibration.temperature)
    result = Explained(ids, seqs, z, start)
    if req.method in ("ism", "both"):
        for seq in progress(seqs, desc="ISM", unit="region"):
            result.ism.append(ism(model, seq, start, end, req.rc_average, req.batch_size))
    if req.method in ("ig", "both"):
        chunk = max(1, req.batch_size // req.steps)
        for lo in progress(range(0, len(seqs), chunk), desc="integrated gradients", unit="batch"):
            values, hyp = integrated_gradients(model, seqs[lo:lo + chunk], req.rc_average, req.steps, req.batch_size)
            result.ig += [v[:, start:end] for v in values]
            result.ig_hypothetical += [h[:, start:end] for h in hyp]
    return result


def _motifs(req: ExplainRequest, result: Explained, motif_db) -> list:
    from enhancer_tools.interpret.ism import hypothetical_from_ism
    from enhancer_tools.interpret.motifs import (
        centre_crop,
        find_patterns,
        match_patterns,
    )
    from enhancer_tools.models.attribution import one_hot

    hyp = [hypothetical_from_ism(d) for d in result.ism] if result.ism else result.ig_hypothetical
    onehot = [one_hot(s[result.offset:result.offset + h.shape[1]]) for s, h in zip(result.seqs, hyp)]
    patterns = find_patterns(centre_crop(onehot), centre_crop(hyp))
    if not patterns:
        log.warning("tfmodisco-lite found no motif patterns in %d regions", len(result.seqs))
    match_patterns(patterns, motif_db, threads=req.threads or 1)
    return patterns


def _write(run: RunInfo, req: ExplainRequest, model, result: Explained, patterns, folder: str) -> None:
    from enhancer_tools.interpret import html, tables

    arrays = {name: values for name, values in (("ism", result.ism), ("ig", result.ig)) if values}
    tables.write_attributions(os.path.join(folder, "attributions.npz"), result.ids, result.seqs, arrays,
                              [result.offset] * len(result.ids))
    with open(os.path.join(folder, "regions.tsv"), "w", encoding="utf-8") as fh:
        fh.write("id\tlength\tcalibrated_logodds\n")
        fh.writelines(f"{i}\t{len(s)}\t{z:.6g}\n" for i, s, z in zip(result.ids, result.seqs, result.logodds))
    if result.ism:
        with open(os.path.join(folder, "ism.tsv"), "w", encoding="utf-8") as fh:
            for k, (rid, seq, delta) in enumerate(zip(result.ids, result.seqs, result.ism)):
                tables.write_ism_table(fh, rid, seq, delta, result.offset, header=k == 0)
    images = os.path.join(folder, "images")
    os.mkdir(images)
    pattern_files = {}
    if req.modisco:
        with open(os.path.join(folder, "motifs.tsv"), "w", encoding="utf-8") as fh:
            tables.write_motifs(fh, patterns)
        with open(os.path.join(folder, "explain_regions_mqc.json"), "w", encoding="utf-8") as fh:
            tables.write_multiqc(fh, patterns)
        pattern_files = html.draw_pattern_logos(patterns, images)
    if result.regions and any(result.regions):
        _genome_tracks(req, result, folder)
    region_files = _region_tracks(result, images, req.plots)
    info = {"model": req.model_dir, "kind": model.kind, "regions": len(result.ids), "method": req.method,
            "rc_average": req.rc_average, "effects": "calibrated log-odds (divided by the temperature "
            f"{float(model.calibration.temperature):g})", "motif_database": req.motifs if req.modisco else "not run"}
    page = html.summary_page(info, patterns, {k: [f"images/{f}" for f in v] for k, v in pattern_files.items()},
                             [(rid, f"images/{f}") for rid, f in region_files])
    with open(os.path.join(folder, "summary.html"), "w", encoding="utf-8") as fh:
        fh.write(page)
    with open(os.path.join(folder, MARKER), "w", encoding="utf-8") as fh:
        json.dump({"tool": "explain-regions", "version": __version__, **info}, fh, indent=1)


def _genome_tracks(req: ExplainRequest, result: Explained, folder: str) -> None:
    """attributions.<method>.bw: each base's contribution on the genome (see interpret.tracks);
    skipped with a warning where pyBigWig is not installed (it is an optional dependency)."""
    import importlib.util

    if importlib.util.find_spec("pyBigWig") is None:
        log.warning("no bigWig tracks of the attributions: pyBigWig is not installed (pip install pyBigWig)")
        return
    from enhancer_tools.genome.reference import chrom_sizes, open_genome
    from enhancer_tools.interpret.ism import hypothetical_from_ism
    from enhancer_tools.interpret.tracks import base_values, genome_track, write_bigwig

    with open_genome(req.genome) as genome:
        sizes = chrom_sizes(genome)
    for name, arrays in (("ism", [hypothetical_from_ism(d) for d in result.ism]), ("ig", result.ig)):
        if arrays:
            per_base = [base_values(a, seq[result.offset:result.offset + a.shape[1]]) for a, seq in zip(arrays, result.seqs)]
            write_bigwig(os.path.join(folder, f"attributions.{name}.bw"),
                         genome_track(result.regions, per_base, result.offset, sizes), sizes)


def _region_tracks(result: Explained, images: str, n: int) -> list[tuple[str, str]]:
    from enhancer_tools.interpret import html
    from enhancer_tools.interpret.ism import hypothetical_from_ism
    from enhancer_tools.models.attribution import one_hot

    order = np.argsort(-result.logodds, kind="stable")[:n]
    files = []
    for rank, i in enumerate(order):
        seq = result.seqs[i]
        if result.ig:
            values = result.ig[i]
        else:
            values = hypothetical_from_ism(result.ism[i]) * one_hot(seq[result.offset:result.offset + result.ism[i].shape[1]])
        files.append((result.ids[i], html.draw_region_track(result.ids[i], values, images, f"region_{rank + 1}")))
    return files
