"""The GPU check of issue 17: DNABERT-2 training and scoring measured through the tools' own code
paths, one JSON and one Markdown table. ``benchmarks/gpu-check.sh`` runs it; a session with a
GPU runs that first.

What it measures (117M shape = ``DNABERT2Config()`` defaults, random weights, the real
tokenizer's vocabulary; ``--cpu-smoke``: a tiny config and tiny shapes on the CPU):

- ``training``: ``Trainer.step`` (the trainer's own micro-batch: host-to-device copy, autocast
  forward, loss, backward, clipping, fused AdamW, scheduler) at ``--tokens`` tokens per
  sequence, batch 64/128/256, for sdpa, flex and sdpa + ``compile_layers``: seq/s and peak
  memory;
- ``training_overhead``: ``Trainer.step`` against a bare forward/backward/AdamW loop on the same
  model and batch (target: at most 10% slower);
- ``pretraining``: ``Pretrainer.train_step``, the optimizer step of ``dnabert2-pretrain``'s
  masked-LM loop (``DNABERT2ForMaskedLM``; autocast forward with the MLM head at the masked
  positions, backward, clipping, fused AdamW, scheduler) on a BERT-masked micro-batch of a
  synthetic tile corpus, at ``--tokens`` tokens per tile, batch 64/128: seq/s, tokens/s, seconds
  per step, peak memory, and the host's seconds to read, tokenise and mask one micro-batch (the
  producer thread's work, overlapped with the step in a real run);
- ``scoring``: score-regions' streaming ``Predictor`` (tokenising producer thread, both strands
  in one forward, one copy back per batch) on random windows, with and without RC averaging,
  and with ``--compile`` static shapes: records/s;
- ``scoring_overhead``: the Predictor's strands/s against a bare forward loop over pre-encoded
  batches (target: at least 0.9);
- ``agreement``: bf16 against fp32 scores (``TorchScorer.logits``) on the fixture model's
  inputs (where ``../shared/fixtures/dnabert2_tiny`` exists) and on random windows: max |dp|
  and Spearman rank correlation of p = sigmoid(logit);
- ``flex_parity``: flex against sdpa logits on a padded batch, fp32 and the autocast dtype.

Targets (H100-class card, bf16, 232 tokens): training >= 2,400 seq/s, scoring with RC
averaging >= 7,000 records/s.

    python benchmarks/gpu_check.py --out gpu-check-out            # on a GPU (about 5 minutes)
    python benchmarks/gpu_check.py --cpu-smoke --out /tmp/smoke   # every step, tiny, CPU
    python benchmarks/gpu_check.py --cpu-proxies --out /tmp/prox  # the overhead ratios on a CPU
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from enhancer_tools.metrics.calibration import Calibration
from enhancer_tools.models.adapter import to_device
from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForMaskedLM,
    DNABERT2ForSequenceClassification,
)
from enhancer_tools.models.hyperparameters import TrainingSettings
from enhancer_tools.models.precision import autocast, autocast_dtype, enable_tf32
from enhancer_tools.models.scorer import TorchScorer, positive_logodds
from enhancer_tools.models.token_adapter import TokenAdapter
from enhancer_tools.scoring.predict import Predictor
from enhancer_tools.scoring.run import prepare_static_shapes
from enhancer_tools.scoring.sources import ScoreRecord
from enhancer_tools.training.data import LabelledSet
from enhancer_tools.training.mlm_corpus import Corpus, TileSet, masking_rule
from enhancer_tools.training.pretrain import Pretrainer
from enhancer_tools.training.pretrain_settings import PretrainSettings
from enhancer_tools.training.trainer import Trainer

FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"
TARGET_TRAIN_SEQ_S = 2400.0
TARGET_SCORE_SEQ_S = 7000.0
H100_CLASS = ("H100", "H200", "B200", "GH200")


@dataclass(frozen=True)
class Plan:
    """The shapes of one check."""

    name: str
    config: Callable[[int], DNABERT2Config]  # vocabulary size -> model config
    tokens: int = 232
    batches: tuple[int, ...] = (64, 128, 256)
    paths: tuple[str, ...] = ("sdpa", "flex", "compile")
    steps: int = 10
    warmup: int = 3
    windows: int = 20_000  # scoring
    window_bp: int = 1000
    score_batch: int = 512
    agreement_windows: int = 1000
    overhead_batch: int = 64
    pretrain_batches: tuple[int, ...] = (64, 128)
    rounds: int = 2  # overhead measurements: alternating rounds, best of each
    threads: int | None = None


GPU_PLAN = Plan("gpu", lambda vocab: DNABERT2Config(vocab_size=vocab))
SMOKE_PLAN = Plan("cpu-smoke", lambda vocab: DNABERT2Config.tiny(vocab_size=vocab), tokens=24, batches=(4,), steps=2,
                  warmup=1, windows=16, window_bp=120, score_batch=8, agreement_windows=16, overhead_batch=4,
                  pretrain_batches=(4,), rounds=1)
# CPU proxies: a model small enough to time on two cores, large enough that matmuls dominate
PROXY_PLAN = Plan("cpu-proxies", lambda vocab: DNABERT2Config(vocab_size=vocab, hidden_size=256, num_hidden_layers=4,
                                                              num_attention_heads=4, intermediate_size=1024),
                  tokens=128, batches=(16,), paths=("sdpa",), steps=8, warmup=2, windows=256, window_bp=500,
                  score_batch=32, agreement_windows=0, overhead_batch=16, pretrain_batches=(16,), rounds=3,
                  threads=1)


def synchronize(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def seconds_per_call(call: Callable[[], object], steps: int, warmup: int, device: str) -> float:
    """Mean seconds per ``call()`` over ``steps`` calls after ``warmup`` untimed ones, the device
    synchronised around the timed ones."""
    for _ in range(warmup):
        call()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        call()
    synchronize(device)
    return (time.perf_counter() - start) / steps


def environment(device: str) -> dict:
    """Card, driver, torch and CUDA versions, CPU threads."""
    info = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
            "card": None, "driver": None}
    if device.startswith("cuda"):
        info["card"] = torch.cuda.get_device_name(device)
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
            info["driver"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
        except (OSError, subprocess.SubprocessError):
            info["driver"] = None
    return info


def tokenizer_path(work: Path, smoke: bool) -> Path:
    """The real DNABERT-2 tokenizer where the fixture is present, else a BPE trained here."""
    if (FIXTURE / "tokenizer.json").is_file():
        return FIXTURE / "tokenizer.json"
    from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe

    rng = random.Random(0)
    vocab, n = (128, 60) if smoke else (4096, 2000)
    path = work / f"tokenizer-{vocab}.json"
    if not path.exists():
        save_tokenizer(train_bpe(["".join(rng.choice("ACGT") for _ in range(1000)) for _ in range(n)], vocab), path)
    return path


def random_windows(n: int, length: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(row) for row in rng.choice(list("ACGT"), (n, length))]


def token_items(n: int, tokens: int, vocab: int, seed: int) -> list[np.ndarray]:
    """``n`` token sequences of exactly ``tokens`` ids ([CLS] ... [SEP])."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab, (n, tokens), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 1, 2
    return list(ids)


def build_model(config: DNABERT2Config, path: str, device: str, seed: int = 0) -> DNABERT2ForSequenceClassification:
    """A random-weight classifier on ``device``; ``path`` "compile" is sdpa with compiled layers."""
    torch.manual_seed(seed)
    implementation = "sdpa" if path == "compile" else path
    model = DNABERT2ForSequenceClassification(dataclasses.replace(config, attention_implementation=implementation))
    model.to(device)
    if path == "compile":
        model.compile_layers(dynamic=False)  # every batch has the same shape here
    return model


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def make_trainer(model, adapter: TokenAdapter, batch: int, tokens: int, device: str) -> tuple[Trainer, dict, object]:
    """A Trainer over ``batch`` random sequences of ``tokens`` tokens, and one collated batch."""
    vocab = model.config.vocab_size
    items = token_items(batch, tokens, vocab, seed=1)
    labels = np.arange(batch) % 2
    train = LabelledSet("-", [f"s{i}" for i in range(batch)], ["A"] * batch, labels)
    val = LabelledSet("-", ["v0", "v1"], ["A", "A"], np.array([0, 1]))
    settings = TrainingSettings(epochs=1, batch_size=batch, learning_rate=1e-5, precision="auto")
    trainer = Trainer(model, adapter, train, val, settings, device=device, encoded={"train": items, "val": items[:2]})
    inputs = adapter.collate(items)
    if device.startswith("cuda"):
        inputs = {k: v.pin_memory() for k, v in inputs.items()}
    return trainer, inputs, torch.from_numpy(labels).float()


def time_trainer_step(trainer: Trainer, inputs: dict, y, device: str, steps: int, warmup: int) -> float:
    """Seconds per ``Trainer.step`` (each an optimizer step)."""
    trainer.model.train()
    return seconds_per_call(lambda: trainer.step(inputs, y, n_batches=10**9), steps, warmup, device)


def time_bare_step(model, inputs: dict, y, device: str, steps: int, warmup: int) -> float:
    """Seconds per bare forward/backward/AdamW step (no clipping, scheduler, loss bookkeeping;
    batch already on the device): the loop the trainer is compared with."""
    batch, y = to_device(inputs, device), y.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, **({"fused": True} if device.startswith("cuda") else {}))
    model.train()

    def step():
        with autocast("auto", device):
            z = positive_logodds(model(**batch)).float()
        torch.nn.functional.binary_cross_entropy_with_logits(z, y).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return seconds_per_call(step, steps, warmup, device)


def training(plan: Plan, config: DNABERT2Config, adapter: TokenAdapter, device: str, log) -> list[dict]:
    rows = []
    for path in plan.paths:
        for batch in plan.batches:
            row = {"path": path, "batch": batch, "tokens": plan.tokens}
            if path == "flex" and not device.startswith("cuda"):
                row["error"] = "skipped: FlexAttention has no backward on the CPU (flex_parity covers its forward)"
                rows.append(row)
                continue
            model = trainer = None
            try:
                model = build_model(config, path, device)
                trainer, inputs, y = make_trainer(model, adapter, batch, plan.tokens, device)
                if device.startswith("cuda"):
                    torch.cuda.reset_peak_memory_stats(device)
                seconds = time_trainer_step(trainer, inputs, y, device, plan.steps, plan.warmup)
                row.update(seq_per_s=round(batch / seconds, 1), seconds_per_step=round(seconds, 5),
                           peak_memory_mib=round(torch.cuda.max_memory_allocated(device) / 2**20)
                           if device.startswith("cuda") else None)
            except Exception as exc:  # one path failing (e.g. out of memory) must not lose the others
                row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            log(f"training {row}")
            rows.append(row)
            model = trainer = None
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
    return rows


def training_overhead(plan: Plan, config: DNABERT2Config, adapter: TokenAdapter, device: str, log) -> dict:
    batch = plan.overhead_batch
    trainer, inputs, y = make_trainer(build_model(config, "sdpa", device), adapter, batch, plan.tokens, device)
    bare_model = build_model(config, "sdpa", device)
    trainer_s = bare_s = float("inf")
    for _ in range(plan.rounds):  # alternate, keep each one's best: steadier on a shared host
        trainer_s = min(trainer_s, time_trainer_step(trainer, inputs, y, device, plan.steps, plan.warmup))
        bare_s = min(bare_s, time_bare_step(bare_model, inputs, y, device, plan.steps, plan.warmup))
    row = {"batch": batch, "tokens": plan.tokens, "trainer_seconds_per_step": round(trainer_s, 5),
           "bare_seconds_per_step": round(bare_s, 5), "overhead": round(trainer_s / bare_s - 1, 4), "target": "<= 0.10"}
    log(f"training overhead {row}")
    return row


# ----------------------------------------------------------------------------------------------
# Pretraining
# ----------------------------------------------------------------------------------------------


class RandomSequences:
    """A synthetic tile source for ``Corpus`` (what ``GenomeSequences`` is to a genome): ``n``
    random ACGT sequences of ``length`` bp."""

    def __init__(self, n: int, length: int, seed: int) -> None:
        self.seqs = random_windows(n, length, seed)

    def fetch(self, index: int, start: int, end: int) -> str:
        return self.seqs[index][start:end]


def make_pretrainer(config: DNABERT2Config, tokenizer: Path, batch: int, tokens: int, device: str,
                    precision: str) -> tuple[Pretrainer, tuple]:
    """A ``Pretrainer`` built as ``dnabert2-pretrain`` builds it (random-weight DNABERT2ForMaskedLM,
    the tokenizer's masking rule, its settings) over ``batch`` synthetic training tiles long
    enough for ``tokens`` tokens each (truncated there), and its first masked micro-batch."""
    from enhancer_tools.tokenize.encode import load_tokenizer

    torch.manual_seed(0)
    model = DNABERT2ForMaskedLM(config)
    width = 8 * tokens  # > 2x the bp per token of any DNABERT-2-like BPE: every tile fills max_tokens
    n_val = 2
    source = RandomSequences(batch + n_val, width, seed=6)
    index = np.arange(batch + n_val)
    tiles = TileSet(index, np.zeros_like(index), np.full_like(index, width))
    corpus = Corpus(source, width, width, tiles.take(index[:batch]), tiles.take(index[batch:]))
    loaded = load_tokenizer(str(tokenizer))
    settings = PretrainSettings(max_tokens=tokens, batch_size=batch, steps=10**6, eval_every=0, precision=precision,
                                val_max_tiles=n_val)
    trainer = Pretrainer(model, corpus, loaded, masking_rule(loaded, config.vocab_size, settings.mask_prob), settings,
                         seed=1, device=device)
    return trainer, trainer.micro_batch(0)


def time_pretrain_step(trainer: Pretrainer, batch: tuple, device: str, steps: int, warmup: int) -> float:
    """Seconds per ``Pretrainer.train_step`` (one optimizer step over one micro-batch)."""
    trainer.model.train()
    return seconds_per_call(lambda: trainer.train_step([batch]), steps, warmup, device)


def pretraining(plan: Plan, config: DNABERT2Config, tokenizer: Path, device: str, precision: str, log) -> list[dict]:
    rows = []
    for batch in plan.pretrain_batches:
        row = {"batch": batch, "tokens": plan.tokens}
        trainer = None
        try:
            trainer, micro = make_pretrainer(config, tokenizer, batch, plan.tokens, device, precision)
            prep_start = time.perf_counter()
            for m in range(1, 3):
                trainer.micro_batch(m)
            prep = (time.perf_counter() - prep_start) / 2
            if device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats(device)
            seconds = time_pretrain_step(trainer, micro, device, plan.steps, plan.warmup)
            real_tokens = int(micro[1].sum())
            row.update(tokens=int(micro[1].shape[1]), masked_per_step=len(micro[3]),
                       seq_per_s=round(batch / seconds, 1), tokens_per_s=round(real_tokens / seconds, 1),
                       seconds_per_step=round(seconds, 5), batch_prep_seconds=round(prep, 5),
                       peak_memory_mib=round(torch.cuda.max_memory_allocated(device) / 2**20)
                       if device.startswith("cuda") else None)
        except Exception as exc:  # one batch size failing (e.g. out of memory) must not lose the others
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        log(f"pretraining {row}")
        rows.append(row)
        trainer = None
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return rows


# ----------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------


def predictor_rate(scorer, seqs: list[str], batch: int, rc: bool, device: str) -> float:
    """Records/s of score-regions' Predictor over ``seqs`` (after one warm-up pass over the
    first batches, which also compiles what --compile compiles)."""
    model = SimpleNamespace(scorer=scorer, calibration=Calibration(1.0, 0.5))
    records = [ScoreRecord(f"w{i}", s) for i, s in enumerate(seqs)]
    for _ in Predictor(model, batch, rc_average=rc).score(records[: 4 * batch]):
        pass
    synchronize(device)
    start = time.perf_counter()
    n = sum(len(b.records) for b in Predictor(model, batch, rc_average=rc).score(records))
    synchronize(device)
    return n / (time.perf_counter() - start)


def bare_forward_rate(model, batches: list[dict], device: str, precision: str) -> float:
    """Sequences/s of a bare forward loop over pre-encoded batches already on the device."""
    on_device = [to_device(b, device) for b in batches]
    model.eval()
    with torch.inference_mode(), autocast(precision, device):
        for b in on_device[:2]:
            model(**b)
        synchronize(device)
        start = time.perf_counter()
        n = 0
        for b in on_device:
            positive_logodds(model(**b))
            n += len(b["input_ids"])
        synchronize(device)
    return n / (time.perf_counter() - start)


def scoring(plan: Plan, config: DNABERT2Config, tokenizer: Path, device: str, precision: str, log) -> dict:
    seqs = random_windows(plan.windows, plan.window_bp, seed=2)
    rows = []
    for variant, rc in (("sdpa", False), ("sdpa", True), ("compile", True)):
        scorer = TorchScorer(build_model(config, "sdpa", device), TokenAdapter(tokenizer, plan.tokens), device,
                             precision)
        if variant == "compile":
            prepare_static_shapes(scorer, compile_model=True)
        row = {"variant": variant, "rc_average": rc, "batch": plan.score_batch, "window_bp": plan.window_bp}
        try:
            row["records_per_s"] = round(predictor_rate(scorer, seqs, plan.score_batch, rc, device), 1)
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        log(f"scoring {row}")
        rows.append(row)
    return {"rows": rows, "windows": plan.windows}


def scoring_overhead(plan: Plan, config: DNABERT2Config, tokenizer: Path, device: str, precision: str, log) -> dict:
    """The Predictor's strands/s (RC averaging: two strands per record, one forward) against a
    bare forward loop over the same windows' pre-encoded forward strands."""
    seqs = random_windows(plan.windows, plan.window_bp, seed=3)
    model = build_model(config, "sdpa", device)
    adapter = TokenAdapter(tokenizer, plan.tokens)
    scorer = TorchScorer(model, adapter, device, precision)
    pairs = 2 * plan.score_batch  # the Predictor's forward holds both strands of score_batch records
    batches = [scorer.encode(seqs[i:i + pairs]) for i in range(0, len(seqs), pairs)]
    bare = pipeline = 0.0
    for _ in range(plan.rounds):  # alternate, keep each one's best: steadier on a shared host
        bare = max(bare, bare_forward_rate(model, batches, device, precision))
        pipeline = max(pipeline, 2 * predictor_rate(scorer, seqs, plan.score_batch, True, device))
    row = {"bare_seq_per_s": round(bare, 1), "predictor_strands_per_s": round(pipeline, 1),
           "ratio": round(pipeline / bare, 3), "target": ">= 0.9", "batch_records": plan.score_batch}
    log(f"scoring overhead {row}")
    return row


# ----------------------------------------------------------------------------------------------
# Agreement and parity
# ----------------------------------------------------------------------------------------------


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic) if len(a) > 2 else float("nan")


def compare(scorer_args: tuple, seqs: list[str], batch: int) -> dict:
    """bf16 against fp32 scores of one model: max |dp|, max |dlogit|, Spearman of p."""
    model, adapter, device = scorer_args
    z32 = TorchScorer(model, adapter, device, "fp32").logits(seqs, batch)
    z16 = TorchScorer(model, adapter, device, "bf16").logits(seqs, batch)
    p32, p16 = 1 / (1 + np.exp(-z32)), 1 / (1 + np.exp(-z16))
    return {"n": len(seqs), "max_abs_dp": float(np.abs(p32 - p16).max()),
            "max_abs_dlogit": float(np.abs(z32 - z16).max()), "spearman_p": round(spearman(p32, p16), 6)}


def agreement(plan: Plan, config: DNABERT2Config, tokenizer: Path, device: str, log) -> dict:
    out = {}
    if (FIXTURE / "model.safetensors").is_file():
        from enhancer_tools.models.registry import load_model

        loaded = load_model(FIXTURE, device, "fp32")
        inputs = json.loads((FIXTURE / "inputs.json").read_text())["sequences"]
        out["fixture"] = compare((loaded.scorer.model, loaded.scorer.adapter, device), inputs, 64)
    else:
        out["fixture"] = {"skipped": f"no fixture at {FIXTURE}"}
    if plan.agreement_windows:
        seqs = random_windows(plan.agreement_windows, plan.window_bp, seed=4)
        model = build_model(config, "sdpa", device)
        out["random_windows"] = compare((model, TokenAdapter(tokenizer, plan.tokens), device), seqs, plan.score_batch)
        out["random_windows"]["window_bp"] = plan.window_bp
    log(f"agreement {out}")
    return out


def flex_parity(config: DNABERT2Config, device: str, log) -> dict:
    """Max |logit difference| of flex against sdpa on one padded batch (fp32 and autocast)."""
    lengths = [config.max_position_embeddings // 4, 7, 3, config.max_position_embeddings // 8]
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(5, config.vocab_size, (len(lengths), max(lengths)), generator=generator)
    mask = (torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]).long()
    model = build_model(config, "sdpa", device).eval()
    out = {}
    for precision in ("fp32", "auto" if device.startswith("cuda") else "bf16"):
        logits = {}
        for implementation in ("sdpa", "flex"):
            model.set_attention_implementation(implementation)
            with torch.inference_mode(), autocast(precision, device):
                logits[implementation] = model(ids.to(device), mask.to(device)).logits.float().cpu()
        dtype = autocast_dtype(precision, device)
        out[str(dtype).removeprefix("torch.") if dtype else "float32"] = float(
            (logits["sdpa"] - logits["flex"]).abs().max())
    log(f"flex parity {out}")
    return out


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [f"# GPU check ({result['plan']})", "",
             f"- card: {env['card'] or env['cpu']}; driver: {env['driver'] or '-'}; torch {env['torch']}; "
             f"CUDA {env['cuda'] or '-'}; precision {result['precision']}; {env['threads']} CPU threads",
             f"- {result['seconds']:.0f} s in all", "", "## Training (Trainer.step)", "",
             "| path | batch | tokens | seq/s | peak MiB | target |", "|---|---:|---:|---:|---:|---|"]
    for r in result.get("training", []):
        target = f">= {TARGET_TRAIN_SEQ_S:,.0f}" if result["h100_class"] else "-"
        lines.append(f"| {r['path']} | {r['batch']} | {r['tokens']} | {_fmt(r.get('seq_per_s'))} | "
                     f"{_fmt(r.get('peak_memory_mib'))} | {r.get('error') or target} |")
    lines += ["", "## Pretraining (Pretrainer.train_step, masked LM)", "",
              "| batch | tokens | seq/s | tokens/s | s/step | host prep s/batch | peak MiB | note |",
              "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in result.get("pretraining", []):
        lines.append(f"| {r['batch']} | {r['tokens']} | {_fmt(r.get('seq_per_s'))} | {_fmt(r.get('tokens_per_s'), 0)} | "
                     f"{_fmt(r.get('seconds_per_step'), 4)} | {_fmt(r.get('batch_prep_seconds'), 4)} | "
                     f"{_fmt(r.get('peak_memory_mib'))} | {r.get('error') or '-'} |")
    lines += ["", "## Scoring (score-regions' Predictor)", "", "| variant | RC averaging | batch | records/s | target |",
              "|---|---|---:|---:|---|"]
    for r in result.get("scoring", {}).get("rows", []):
        target = f">= {TARGET_SCORE_SEQ_S:,.0f}" if result["h100_class"] and r["rc_average"] else "-"
        lines.append(f"| {r['variant']} | {r['rc_average']} | {r['batch']} | {_fmt(r.get('records_per_s'))} | "
                     f"{r.get('error') or target} |")
    over, sover = result.get("training_overhead", {}), result.get("scoring_overhead", {})
    lines += ["", "## Overheads", "", "| measure | tool | bare loop | ratio | target |", "|---|---:|---:|---:|---|",
              f"| trainer step (s) | {_fmt(over.get('trainer_seconds_per_step'), 4)} | "
              f"{_fmt(over.get('bare_seconds_per_step'), 4)} | {_fmt(over.get('overhead'), 3)} | overhead <= 0.10 |",
              f"| scoring strands/s | {_fmt(sover.get('predictor_strands_per_s'))} | {_fmt(sover.get('bare_seq_per_s'))} | "
              f"{_fmt(sover.get('ratio'), 3)} | >= 0.9 |", "", "## bf16 against fp32; flex against sdpa", "",
              "| set | n | max abs dp | max abs dlogit | Spearman |", "|---|---:|---:|---:|---:|"]
    for name, r in result.get("agreement", {}).items():
        if "n" in r:
            lines.append(f"| {name} | {r['n']} | {r['max_abs_dp']:.2e} | {r['max_abs_dlogit']:.2e} | {r['spearman_p']} |")
        else:
            lines.append(f"| {name} | - | - | - | {r.get('skipped')} |")
    lines += ["", "flex vs sdpa, max abs logit difference: "
              + ", ".join(f"{k} {v:.2e}" for k, v in result.get("flex_parity", {}).items()), ""]
    return "\n".join(lines)


STEPS = ("training", "training_overhead", "pretraining", "scoring", "scoring_overhead", "agreement", "flex_parity")


def run(plan: Plan, device: str, out: Path, steps: tuple[str, ...] = STEPS, log=print) -> dict:
    """Run the ``steps`` of ``plan`` on ``device``; writes gpu-check.json and gpu-check.md in ``out``."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    if plan.threads:
        torch.set_num_threads(plan.threads)
    enable_tf32(device)
    tokenizer = tokenizer_path(out, smoke=plan.name != "gpu")
    adapter = TokenAdapter(tokenizer, plan.tokens)
    config = plan.config(adapter.tokenizer.get_vocab_size())
    precision = "auto" if device.startswith("cuda") else "fp32"
    env = environment(device)
    result = {"schema": 1, "plan": plan.name, "environment": env, "precision": precision,
              "model": {"hidden_size": config.hidden_size, "layers": config.num_hidden_layers,
                        "vocab_size": config.vocab_size, "tokenizer": str(tokenizer)},
              "h100_class": bool(env["card"] and any(k in env["card"] for k in H100_CLASS)),
              "targets": {"training_seq_per_s": TARGET_TRAIN_SEQ_S, "scoring_records_per_s": TARGET_SCORE_SEQ_S}}
    jobs = {"training": lambda: training(plan, config, adapter, device, log),
            "training_overhead": lambda: training_overhead(plan, config, adapter, device, log),
            "pretraining": lambda: pretraining(plan, config, tokenizer, device, precision, log),
            "scoring": lambda: scoring(plan, config, tokenizer, device, precision, log),
            "scoring_overhead": lambda: scoring_overhead(plan, config, tokenizer, device, precision, log),
            "agreement": lambda: agreement(plan, config, tokenizer, device, log),
            "flex_parity": lambda: flex_parity(config, device, log)}
    for step in steps:
        result[step] = jobs[step]()
        result["seconds"] = time.perf_counter() - started
        (out / "gpu-check.json").write_text(json.dumps(result, indent=1) + "\n")  # what is done survives a kill
    (out / "gpu-check.md").write_text(markdown(result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cpu-smoke", action="store_true", help="every step at tiny shapes on the CPU (< 2 minutes)")
    mode.add_argument("--cpu-proxies", action="store_true", help="the two overhead ratios at a CPU-sized shape")
    parser.add_argument("--out", default="gpu-check-out", help="folder for gpu-check.json and gpu-check.md")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--device", default=None, help="default: cuda (cpu for --cpu-smoke/--cpu-proxies)")
    args = parser.parse_args(argv)
    steps = tuple(args.steps.split(","))
    if args.cpu_proxies and args.steps == ",".join(STEPS):
        steps = ("training_overhead", "scoring_overhead")
    plan = SMOKE_PLAN if args.cpu_smoke else PROXY_PLAN if args.cpu_proxies else GPU_PLAN
    device = args.device or ("cpu" if plan is not GPU_PLAN else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu-check: no CUDA device; use --cpu-smoke to check the script on a CPU", file=sys.stderr)
        return 2
    result = run(plan, device, Path(args.out), steps, log=lambda m: print(m, flush=True))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
