"""One ``dnabert2-pretrain`` run end to end: output-folder rules, the corpus, the starting model,
the masked-LM loop (``training.pretrain``), the Hugging Face-layout output and the run info.

Work files live in ``MLM_DIR.work/checkpoint/`` (kept after a failure or kill for ``--resume``);
a successful run removes the folder. The output is written by ``dnabert2_io.save_pretrained``
(config.json, model.safetensors, tokenizer.json, provenance.json naming this tool, which is how
an earlier output is recognised for ``--force``).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass

from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs
from enhancer_tools.io.output_folder import check_output_folder, work_folder
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.models.modeldir import PROVENANCE_JSON, read_json
from enhancer_tools.models.precision import resolve_device
from enhancer_tools.training import distributed
from enhancer_tools.training.mlm_corpus import (
    DEFAULT_MAX_N_FRAC,
    FastaSequences,
    GenomeSequences,
    build_corpus,
    file_fingerprint,
    masking_rule,
    read_exclude,
    sample_bp_per_token,
)
from enhancer_tools.training.pretrain import (
    Pretrainer,
    PretrainResult,
    total_steps_note,
)
from enhancer_tools.training.pretrain_settings import PretrainSettings

log = logging.getLogger(__name__)
TOOL = "dnabert2-pretrain"


@dataclass
class PretrainRequest:
    """A dnabert2-pretrain command line, as the library needs it."""

    output: str
    tokenizer: str
    settings: PretrainSettings
    model_dir: str | None = None  # a checkpoint to continue, or
    architecture: dict | None = None  # a config for random weights
    init_file: str | None = None  # the --init config.json (an input, never inside the output)
    genome: str | None = None
    fasta: tuple = ()
    exclude: str | None = None
    width: int | None = None
    tile_step: int | None = None
    val_fraction: float = 0.01
    max_n_frac: float = DEFAULT_MAX_N_FRAC
    resume: bool = False
    force: bool = False
    device: str = "auto"
    seed: int = 1
    threads: int | None = None
    on_step: Callable[[int], None] | None = None  # test hook, called after each optimizer step


def is_pretrain_output(path) -> bool:
    """True for a folder this tool wrote (its provenance.json names the tool)."""
    try:
        record = read_json(os.path.join(os.fspath(path), PROVENANCE_JSON))
    except (OSError, UserError):
        return False
    return isinstance(record, dict) and record.get("tool") == TOOL


def load_start_model(model_dir: str | None, architecture: dict | None, seed: int):
    """The DNABERT2ForMaskedLM to continue (``model_dir``) or a randomly initialised one (seeded)."""
    import torch

    from enhancer_tools.models.dnabert2 import DNABERT2ForMaskedLM
    from enhancer_tools.models.dnabert2_config import DNABERT2Config

    torch.manual_seed(seed)
    if model_dir is not None:
        model = DNABERT2ForMaskedLM.from_pretrained(model_dir)
    else:
        model = DNABERT2ForMaskedLM(DNABERT2Config.from_dict(architecture))
    if model.cls.predictions.decoder.weight is not model.bert.embeddings.word_embeddings.weight:
        raise RuntimeError("the masked-LM decoder is not tied to the word embeddings")
    return model


def _corpus(req: PretrainRequest, run: RunInfo):
    source = GenomeSequences(req.genome) if req.genome else FastaSequences(list(req.fasta))
    exclude = read_exclude(req.exclude, source.sizes) if req.exclude else None
    width, bp_per_token = req.width, None
    if width is None:
        bp_per_token = sample_bp_per_token(source, req.tokenizer)
        width = max(1, int((req.settings.max_tokens - 2) * bp_per_token))
        log.info("tokenizer: %.2f bp per token on a sample; %d tokens -> %d bp tiles", bp_per_token,
                 req.settings.max_tokens, width)
    corpus = build_corpus(source, width, req.tile_step or width, req.val_fraction, exclude, req.max_n_frac)
    run.counts.update(corpus.counts)
    run.extra["corpus"] = {"width_bp": width, "tile_step_bp": corpus.step, "bp_per_token_sample": bp_per_token,
                           "val_fraction": req.val_fraction, "max_n_frac": req.max_n_frac,
                           "source": "genome" if req.genome else "fasta"}
    return corpus


def _main_rank_first(ctx, work: Callable):
    """``work()`` on rank 0 first (it may index the genome), then on the other ranks."""
    if not ctx.is_main:
        distributed.barrier()
    try:
        return work()
    finally:
        if ctx.is_main and ctx.world_size > 1:
            distributed.barrier()  # also when rank 0 failed: the others then fail the same way


def _checkpoint_dir(req: PretrainRequest, is_main: bool) -> str:
    checkpoint_dir = os.path.join(work_folder(req.output), "checkpoint")
    if not req.resume and os.path.isdir(checkpoint_dir):
        if not req.force:
            raise UserError("holds the checkpoint of an earlier, unfinished run: continue it with --resume, or add "
                            "--force to discard it and start again", checkpoint_dir)
        if is_main:
            log.info("--force: removing the checkpoint of an earlier run")
            shutil.rmtree(checkpoint_dir)
    distributed.barrier()
    return checkpoint_dir


def _fingerprint(req: PretrainRequest) -> dict:
    inputs = [req.genome, *req.fasta, req.exclude, req.tokenizer]
    return {"inputs": [file_fingerprint(p) for p in inputs if p], "model": req.model_dir and os.path.abspath(req.model_dir),
            "architecture": req.architecture, "width": req.width, "tile_step": req.tile_step,
            "val_fraction": req.val_fraction, "max_n_frac": req.max_n_frac}


def pretrain(run: RunInfo, req: PretrainRequest) -> PretrainResult:
    """Run dnabert2-pretrain end to end; fills ``run``."""
    import torch

    from enhancer_tools.tokenize.encode import load_tokenizer

    if req.threads:
        torch.set_num_threads(req.threads)
    check_output_folder(req.output, [req.genome, *req.fasta, req.exclude, req.tokenizer, req.model_dir, req.init_file],
                        force=req.force, is_ours=is_pretrain_output, what="masked-LM directory of dnabert2-pretrain")
    device = resolve_device(req.device)
    ctx, device = distributed.init_distributed(device)
    try:
        corpus = _main_rank_first(ctx, lambda: _corpus(req, run))
        tokenizer = load_tokenizer(req.tokenizer)
        model = load_start_model(req.model_dir, req.architecture, req.seed)
        rule = masking_rule(tokenizer, model.config.vocab_size, req.settings.mask_prob)
        log.info("%s", total_steps_note(req.settings, len(corpus.train), ctx.world_size))
        trainer = Pretrainer(model, corpus, tokenizer, rule, req.settings, seed=req.seed, device=device,
                             checkpoint_dir=_checkpoint_dir(req, ctx.is_main), fingerprint=_fingerprint(req),
                             on_step=req.on_step)
        result = trainer.run(req.resume)
        if ctx.is_main:
            _write_output(req, model, result, device)
            shutil.rmtree(work_folder(req.output), ignore_errors=True)
        distributed.barrier()
    finally:
        distributed.shutdown()
    _fill_run_info(run, req, result, device, ctx.world_size)
    return result


def _metrics(result: PretrainResult) -> dict:
    return {"validation": result.validation, "steps": result.steps, "tokens_seen": result.tokens_seen,
            "masked_tokens_seen": result.masked_tokens_seen}


def _write_output(req: PretrainRequest, model, result: PretrainResult, device: str) -> None:
    from enhancer_tools.models.dnabert2_io import save_pretrained

    training_data = {"genome": req.genome} if req.genome else {f"fasta_{i}": p for i, p in enumerate(req.fasta)}
    if req.exclude:
        training_data["exclude"] = req.exclude
    provenance = {"tool": TOOL, "training_data": training_data, "metrics": _metrics(result),
                  "training_args": {**asdict(req.settings), "seed": req.seed, "device": device,
                                    "start": os.path.abspath(req.model_dir) if req.model_dir else "random"}}
    with AtomicOutputs() as out:
        save_pretrained(model.cpu(), out.directory(req.output, replace=req.force), provenance=provenance,
                        tokenizer_json=req.tokenizer)


def _fill_run_info(run: RunInfo, req: PretrainRequest, result: PretrainResult, device: str, world_size: int) -> None:
    run.add_input("tokenizer", req.tokenizer)
    run.add_input("genome", req.genome)
    run.add_input("fasta", list(req.fasta) or None)
    run.add_input("exclude", req.exclude)
    run.outputs["model_dir"] = req.output
    run.counts.update(steps=result.steps, tokens_seen=result.tokens_seen,
                      masked_tokens_seen=result.masked_tokens_seen)
    run.extra.update(_metrics(result))
    run.extra.update({
        "pretraining": result.log, "steps_per_epoch": result.steps_per_epoch,
        "train_seconds": round(result.train_seconds, 3),
        "tokens_per_s": round(result.tokens_per_s, 1) if result.tokens_per_s else None,
        "peak_gpu_memory_mib": round(result.peak_gpu_memory_mib, 1) if result.peak_gpu_memory_mib else None,
        "settings": asdict(req.settings), "model": {"start": req.model_dir or "random", "device": device,
                                                     "world_size": world_size}})
