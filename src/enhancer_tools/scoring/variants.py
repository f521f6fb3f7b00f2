"""score-variants: the effect of each VCF variant on a model's enhancer probability.

Each ALT allele's window and the record's REF window (``scoring.variant_windows``) are scored
as score-regions scores a sequence (``scoring.predict``'s rule): the positive-class log-odds
``z`` of both strands are averaged (unless ``rc_average`` is off), then the model's temperature
``T`` applies, so ``p_ref = sigmoid(z_ref / T)``, ``p_alt = sigmoid(z_alt / T)`` and

- ``dlogit = (z_alt - z_ref) / T = logit(p_alt) - logit(p_ref) = ln(odds_alt / odds_ref)``:
  the change in calibrated log-odds, which is the log odds ratio (one number, not two);
- ``delta_p = p_alt - p_ref``;
- ``flip``: 1 when ``p_ref < threshold <= p_alt`` (gain), -1 for the reverse (loss), else 0.

Records stream in constant memory: a producer thread reads records, cuts and encodes the
windows of up to ``batch_size`` alleles (REF windows once per record, shared by its ALTs)
while the calling thread runs the model and writes the outputs in input order.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC
from enhancer_tools.io.prefetch import prefetch
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.metrics.binary import sigmoid
from enhancer_tools.seq import reverse_complement

log = logging.getLogger(__name__)


@dataclass
class VariantRequest:
    """The options of score-variants (see its --help)."""

    model_dir: str
    vcf: str
    genome: str
    output: str
    tsv: str | None = None
    rejects: str | None = None
    width: int | None = None
    edge: str | None = None
    max_indel: int = 50
    max_n_frac: float = DEFAULT_MAX_N_FRAC
    rc_average: bool = True
    threshold: float | None = None
    batch_size: int = 128
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    shard: str | None = None
    sort_memory: str = "768M"


def _chunks(items: Iterable, batch_size: int) -> Iterator[list]:
    """Groups of records holding at most ``batch_size`` windows (at least one record)."""
    chunk, n = [], 0
    for item in items:
        size = (item.ref_seq is not None) + sum(s is not None for s in item.alt_seqs)
        if chunk and n + size > batch_size:
            yield chunk
            chunk, n = [], 0
        chunk.append(item)
        n += size
    if chunk:
        yield chunk


class VariantScorer:
    """Scores chunks of ``VariantItem`` with a loaded model (``registry.LoadedModel``)."""

    def __init__(self, model, rc_average: bool = True, threshold: float | None = None) -> None:
        self.scorer = model.scorer
        self.rc_average = rc_average
        self.temperature = float(model.calibration.temperature)
        self.threshold = float(model.calibration.threshold if threshold is None else threshold)

    def encode(self, chunk: list):
        """The chunk and its encoded windows: both strands in one batch when averaging (one model
        call per chunk), else the forward strand; None when the chunk has nothing to score."""
        seqs = [s.upper() for item in chunk for s in [item.ref_seq, *item.alt_seqs] if s is not None]
        if not seqs:
            return chunk, None
        if self.rc_average:
            seqs = seqs + [reverse_complement(s) for s in seqs]
        return chunk, self.scorer.encode(seqs)

    def logodds(self, encoded) -> np.ndarray:
        """Strand-averaged log-odds (before temperature) of the encoded windows."""
        if encoded is None:
            return np.zeros(0)
        z = self.scorer.logodds(encoded)
        if not self.rc_average:
            return z
        n = len(z) // 2
        return (z[:n] + z[n:]) / 2.0

    def effects(self, chunk: list, z: np.ndarray) -> Iterator[tuple]:
        """Per record: ``(item, p_ref, p_alt, dlogit, flip)``, lists per ALT with None where the
        ALT was not scored."""
        t, k = self.temperature, 0
        for item in chunk:
            if item.ref_seq is None:
                yield item, None, [None] * len(item.alts), [None] * len(item.alts), [None] * len(item.alts)
                continue
            z_ref = z[k] / t
            k += 1
            p_ref = float(sigmoid(z_ref))
            p_alt, dlogit, flip = [], [], []
            for seq in item.alt_seqs:
                if seq is None:
                    p_alt.append(None), dlogit.append(None), flip.append(None)
                    continue
                z_alt = z[k] / t
                k += 1
                pa = float(sigmoid(z_alt))
                p_alt.append(pa)
                dlogit.append(float(z_alt - z_ref))
                flip.append(int(pa >= self.threshold) - int(p_ref >= self.threshold))
            yield item, p_ref, p_alt, dlogit, flip


def score_variants(run: RunInfo, req: VariantRequest) -> None:
    """Run score-variants end to end (see the CLI's --help)."""
    import pysam

    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs
    from enhancer_tools.models.modeldir import CONFIG_JSON, MODEL_JSON
    from enhancer_tools.scoring.sources import parse_shard

    shard = parse_shard(req.shard)
    outputs = [req.output, req.output + ".tbi", req.tsv, req.rejects]
    named = [p for p in outputs if p]
    if len({os.path.abspath(p) for p in named}) != len(named):
        raise UserError("two outputs have the same file name")
    refuse_overwriting_inputs(outputs, [req.vcf, req.genome])
    found = [os.path.join(req.model_dir, n) for n in (MODEL_JSON, CONFIG_JSON)
             if os.path.isfile(os.path.join(req.model_dir, n))]
    run.add_input("model_config", found[0] if found else None)
    run.add_input("vcf", req.vcf)
    run.add_input("genome", req.genome)
    model = _load(req)
    verbosity = pysam.set_verbosity(0)  # htslib's warnings about undeclared header lines: we add them
    try:
        with tempfile.TemporaryDirectory(prefix="score-variants-") as tmp, AtomicOutputs() as out:
            _score(run, req, model, shard, tmp, out)
    finally:
        pysam.set_verbosity(verbosity)
    run.outputs.update({"vcf": req.output, "index": req.output + ".tbi", "effects": req.tsv, "rejects": req.rejects})


def _load(req: VariantRequest):
    import torch

    from enhancer_tools.models.precision import resolve_device
    from enhancer_tools.models.registry import load_model

    if req.threads:
        torch.set_num_threads(req.threads)
    device = resolve_device(req.device)
    precision = req.precision if req.precision != "auto" else ("bf16" if device.startswith("cuda") else "fp32")
    return load_model(req.model_dir, device, precision)


def _score(run: RunInfo, req: VariantRequest, model, shard, tmp: str, out) -> None:
    from enhancer_tools.genome.reference import open_genome
    from enhancer_tools.progress import progress
    from enhancer_tools.scoring import variant_output as vo
    from enhancer_tools.scoring.run import resolve_window
    from enhancer_tools.scoring.variant_source import VcfSource, WindowRule

    width, edge = resolve_window(model.window, req.width, req.edge)
    fasta = open_genome(req.genome)
    source = VcfSource(req.vcf, fasta, tmp)
    rule = WindowRule(width, edge, req.max_indel, req.max_n_frac)
    scorer = VariantScorer(model, req.rc_average, req.threshold)
    vcf = vo.VcfWriter(out.path(req.output), vo.output_header(source.header(), source.chroms, source.sizes))
    tsv = out.open(req.tsv) if req.tsv else None
    rejects = out.open(req.rejects) if req.rejects else None
    if tsv:
        tsv.write("\t".join(vo.EFFECT_COLUMNS) + "\n")
    if rejects:
        rejects.write("\t".join(vo.REJECT_COLUMNS) + "\n")
    lo, hi = shard.block(source.count)
    counts, reasons = Counter(), Counter()
    started = time.perf_counter()
    batches = prefetch((scorer.encode(chunk) for chunk in _chunks(source.items(rule, shard), req.batch_size)),
                       name="score-variants-encoder")
    for chunk, encoded in progress(batches, "scoring", None, "batch"):
        for item, p_ref, p_alt, dlogit, flip in scorer.effects(chunk, scorer.logodds(encoded)):
            vcf.write(vo.annotate_line(item.line, vo.info_values(p_ref, p_alt, dlogit, flip)), item.chrom, item.pos)
            if tsv:
                tsv.write("".join(row + "\n" for row in vo.effect_rows(item, p_ref, p_alt, dlogit, flip)))
            if rejects:
                rejects.write("".join(row + "\n" for row in vo.reject_rows(item)))
            counts.update(records=1, alleles=len(item.alts), alleles_scored=sum(p is not None for p in p_alt),
                          gains=sum(f == 1 for f in flip), losses=sum(f == -1 for f in flip))
            reasons.update(reason for _, reason, _ in item.rejects)
    sorted_here = vcf.finish(out.path(req.output + ".tbi"), tmp, req.sort_memory)
    seconds = time.perf_counter() - started
    _report(run, req, model, scorer, source, shard, (lo, hi), counts, reasons, width, edge, seconds, sorted_here)


def _report(run, req, model, scorer, source, shard, block, counts, reasons, width, edge, seconds, sorted_here) -> None:
    lo, hi = block
    if counts["records"] == 0:
        log.warning("no variant records%s: the output VCF has the header only",
                    f" in shard {shard.index}/{shard.count}" if shard.count > 1 else "")
    if reasons:
        log.warning("%d ALT allele(s) were not scored (%s)", sum(reasons.values()),
                    ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    run.counts.update(input_records=source.count, shard_records=hi - lo, records_written=counts["records"],
                      alleles=counts["alleles"], alleles_scored=counts["alleles_scored"],
                      alleles_rejected=sum(reasons.values()), rejects_by_reason=dict(sorted(reasons.items())),
                      gains=counts["gains"], losses=counts["losses"])
    run.extra.update({
        "model": {"kind": model.kind, "path": os.path.abspath(req.model_dir), "window": model.window,
                  "max_tokens": model.max_tokens},
        "threshold": scorer.threshold, "temperature": scorer.temperature, "rc_average": req.rc_average,
        "window": {"width": width, "edge": edge, "max_indel": req.max_indel, "max_n_frac": req.max_n_frac},
        "device": str(getattr(model.scorer, "device", "cpu")),
        "precision": getattr(model.scorer, "precision", "fp32"),
        "shard": {"index": shard.index, "count": shard.count, "first_record": lo, "end_record": hi},
        "sorted_by_tool": sorted_here,
        "seconds": round(seconds, 3),
        "alleles_per_s": round(counts["alleles_scored"] / seconds, 1) if seconds > 0 else None,
    })
    log.info("%d of %d ALT alleles scored (%.1f/s); %d gain(s), %d loss(es) of the call at threshold %.4g",
             counts["alleles_scored"], counts["alleles"], counts["alleles_scored"] / seconds if seconds > 0 else 0.0,
             counts["gains"], counts["losses"], scorer.threshold)

