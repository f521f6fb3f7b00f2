"""The shared training loop for torch models (EnhancerNet, DNABERT-2).

AdamW with linear warmup and decay, weight decay (not on biases and norms), gradient
accumulation and clipping, optional reverse-complement augmentation and class weights,
bf16/fp16 autocast on CUDA, validation every epoch (or every N optimizer steps), early
stopping on validation PR-AUC, the best weights kept, and checkpoints that resume exactly.

Determinism: the data order of epoch e is a pure function of (seed, e); dropout uses the
global torch RNG, whose state is checkpointed (each rank's own under torchrun); so on CPU a
resumed run ends with the same weights and metrics as an uninterrupted one.

Under torchrun (DDP) every rank trains on its shard of each epoch's batches; validation is
sharded over the ranks and gathered; rank 0 alone decides on early stopping and broadcasts the
decision, and writes the checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.models.adapter import TaskAdapter, positive_logodds, predict_logodds, take
from enhancer_tools.seq import reverse_complement
from enhancer_tools.training import distributed
from enhancer_tools.training.data import LabelledSet
from enhancer_tools.metrics.binary import binary_metrics

log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = 1


@dataclass
class TrainConfig:
    """Optimisation settings shared by every torch model (hyperparameter names as in Optuna)."""

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    rc_augment: bool = False
    class_weights: bool = False
    patience: int = 3
    eval_every: int = 0  # optimizer steps between validations; 0 = once per epoch
    checkpoint_every: int = 0  # optimizer steps between checkpoints; 0 = at each validation
    seed: int = 1
    precision: str = "auto"  # auto (bf16 or fp16 on CUDA, fp32 on CPU), fp32, bf16, fp16
    num_workers: int = 0
    eval_batch_size: int = 0  # 0 = 2 x batch_size
    bucket_batches: int = 50  # length bucketing sorts pools of this many batches

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "TrainConfig":
        """Build from a flat hyperparameter dict, ignoring keys that are not training settings."""
        names = {f.name: f.type for f in fields(cls)}
        kwargs = {}
        for k, v in params.items():
            if k in names:
                default = getattr(cls, k)
                kwargs[k] = type(default)(v) if not isinstance(default, bool) else bool(v)
        return cls(**kwargs)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """What a training run produced; the caller's model holds the best weights afterwards."""

    best_state: dict
    validation: dict
    val_logodds: np.ndarray
    log: list[dict]
    best_epoch: float
    stopped_early: bool
    steps: int
    throughput: float | None
    train_seconds: float
    peak_gpu_memory_mib: float | None
    config: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Seed the global torch RNG (model initialisation, dropout)."""
    import torch

    torch.manual_seed(seed)


def epoch_batches(n: int, epoch: int, config: TrainConfig, lengths: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(indices, strands) of each batch of ``epoch``: a seeded shuffle; with lengths, pools of
    ``bucket_batches`` batches sorted by length (less padding), batch order shuffled again."""
    import torch

    g = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g).numpy()
    strands = torch.randint(0, 2, (n,), generator=g).numpy() if config.rc_augment else np.zeros(n, dtype=np.int64)
    bs = config.batch_size
    if lengths is None:
        chunks = [perm[i:i + bs] for i in range(0, n, bs)]
    else:
        chunks = []
        pool = bs * config.bucket_batches
        for p in range(0, n, pool):
            part = perm[p:p + pool]
            part = part[np.argsort(lengths[part], kind="stable")]
            chunks.extend(part[i:i + bs] for i in range(0, len(part), bs))
        order = torch.randperm(len(chunks), generator=g).numpy()
        chunks = [chunks[i] for i in order]
    return [(c, strands[c]) for c in chunks]


def _gather(fwd, rc, idx: np.ndarray, strands: np.ndarray):
    if rc is None or not strands.any():
        return take(fwd, idx)
    if hasattr(fwd, "shape"):
        out = fwd[idx].copy()
        out[strands == 1] = rc[idx[strands == 1]]
        return out
    return [rc[i] if s else fwd[i] for i, s in zip(idx, strands)]


class _Batches:
    """One epoch's batches as a map-style dataset, so DataLoader workers can collate them."""

    def __init__(self, batches, fwd, rc, labels, adapter) -> None:
        self.batches, self.fwd, self.rc, self.labels, self.adapter = batches, fwd, rc, labels, adapter

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i):
        import torch

        idx, strands = self.batches[i]
        return self.adapter.collate(_gather(self.fwd, self.rc, idx, strands)), torch.from_numpy(self.labels[idx]).float()


def _param_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _autocast_dtype(precision: str, device: str):
    import torch

    if not device.startswith("cuda") or precision == "fp32":
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _shard(batches: list, ctx: distributed.DistContext) -> list:
    if ctx.world_size == 1:
        return batches
    if len(batches) < ctx.world_size:  # repeat so every rank runs the same number of steps
        batches = (batches * ctx.world_size)[: ctx.world_size]
    usable = len(batches) - len(batches) % ctx.world_size
    return batches[ctx.rank:usable:ctx.world_size]


def _cpu_state(model) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def predict_sharded(model, adapter: TaskAdapter, items: Any, batch_size: int, device: str) -> np.ndarray:
    """Log-odds of every encoded item, each rank predicting its contiguous share (gathered back in
    order on every rank; the whole set on one process)."""
    ctx = distributed.current()
    start, end = distributed.shard_bounds(len(items), ctx)
    part = predict_logodds(model, adapter, None, batch_size, device,
                           items=items if ctx.world_size == 1 else take(items, range(start, end)))
    return part if ctx.world_size == 1 else np.concatenate(distributed.gather_objects(part))


def _rank_state(s: dict, device: str) -> dict:
    """What differs between ranks and must survive a restart: RNG streams and loss sums."""
    import torch

    return {"rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(device) if device.startswith("cuda") else None,
            "loss_sum": s["loss_sum"], "loss_count": s["loss_count"], "seqs_seen": s["seqs_seen"]}


def _restore_rank_state(state: dict, s: dict, rank: int, device: str) -> None:
    import torch

    # checkpoints before per-rank state held rank 0's RNG only (single-process runs)
    mine = state["ranks"][rank] if "ranks" in state else {"rng_cpu": state["rng_cpu"], "rng_cuda": None}
    torch.set_rng_state(mine["rng_cpu"])
    if mine.get("rng_cuda") is not None and device.startswith("cuda"):
        torch.cuda.set_rng_state(mine["rng_cuda"], device)
    elif state.get("rng_cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    for key in ("loss_sum", "loss_count", "seqs_seen"):
        if key in mine:
            s[key] = mine[key]


class _Checkpoints:
    """Checkpoint folders ``step-NNNNNNNN/`` under one directory and a ``latest.json`` pointer
    written last, so a kill while saving leaves the previous checkpoint usable."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def latest(self) -> str | None:
        pointer = os.path.join(self.directory, "latest.json")
        if not os.path.exists(pointer):
            return None
        with open(pointer, encoding="utf-8") as fh:
            return os.path.join(self.directory, json.load(fh)["dir"])

    def save(self, step: int, model_state: dict, best_state: dict | None, state: dict) -> None:
        import torch
        from safetensors.torch import save_file

        os.makedirs(self.directory, exist_ok=True)
        name = f"step-{step:08d}"
        target = os.path.join(self.directory, name)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        save_file({k: v.contiguous() for k, v in model_state.items()}, os.path.join(target, "model.safetensors"))
        if best_state is not None:
            save_file({k: v.contiguous() for k, v in best_state.items()}, os.path.join(target, "best.safetensors"))
        torch.save(state, os.path.join(target, "state.pt"))
        tmp = os.path.join(self.directory, ".latest.json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"dir": name, "step": step}, fh)
        os.replace(tmp, os.path.join(self.directory, "latest.json"))
        for entry in os.listdir(self.directory):
            if entry.startswith("step-") and entry != name:
                shutil.rmtree(os.path.join(self.directory, entry), ignore_errors=True)

    def load(self) -> tuple[dict, dict | None, dict] | None:
        import torch
        from safetensors.torch import load_file

        folder = self.latest()
        if folder is None:
            return None
        state = torch.load(os.path.join(folder, "state.pt"), map_location="cpu", weights_only=True)
        best_path = os.path.join(folder, "best.safetensors")
        best = load_file(best_path) if os.path.exists(best_path) else None
        return load_file(os.path.join(folder, "model.safetensors")), best, state


def train(model, adapter: TaskAdapter, train_set: LabelledSet, val_set: LabelledSet, config: TrainConfig, *,
          device: str = "cpu", checkpoint_dir: str | None = None, resume: bool = False, trial=None,
          on_step: Callable[[int], None] | None = None, fingerprint: Mapping | None = None,
          encoded: Mapping[str, Any] | None = None) -> TrainResult:
    """Train ``model`` (already built and seeded) on ``train_set``; validate on ``val_set``.

    ``checkpoint_dir``: where checkpoints go (rank 0 writes); ``resume`` continues from the
    latest one there (its ``fingerprint`` must equal this run's). ``trial``: an Optuna trial
    that receives validation PR-AUC after each validation and may prune the run.
    ``on_step(step)`` is called after every optimizer step (tests stop a run with it).
    ``encoded``: pre-encoded items {"train", "train_rc", "val"} to reuse across trials.
    Returns the best validation result; the model is left holding the best weights.
    """
    import torch

    ctx = distributed.current()
    model.to(device)
    if ctx.world_size > 1:  # the same initial weights everywhere, but each rank its own dropout stream
        torch.manual_seed(config.seed + 7919 * ctx.rank)
    encoded = dict(encoded or {})
    fwd = encoded.get("train")
    if fwd is None:
        fwd = adapter.encode(train_set.seqs)
    rc = None
    if config.rc_augment:
        rc = encoded.get("train_rc")
        if rc is None:
            rc = adapter.encode([reverse_complement(s) for s in train_set.seqs])
    val_items = encoded.get("val")
    if val_items is None:
        val_items = adapter.encode(val_set.seqs)
    lengths = adapter.lengths(fwd)
    labels = train_set.labels.astype(np.float32)
    n = len(train_set)

    net = model
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.startswith("cuda") else None)
    optimizer = torch.optim.AdamW(_param_groups(model, config.weight_decay), lr=config.learning_rate)
    n_batches = len(_shard(epoch_batches(n, 0, config, lengths), ctx))
    steps_per_epoch = math.ceil(n_batches / config.grad_accum)
    total_steps = max(1, steps_per_epoch * config.epochs)
    warmup = int(config.warmup_ratio * total_steps)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    amp_dtype = _autocast_dtype(config.precision, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    if config.class_weights:
        n_pos = float(labels.sum())
        pos_weight, neg_weight = n / (2 * n_pos), n / (2 * (n - n_pos))
    else:
        pos_weight = neg_weight = 1.0
    eval_bs = config.eval_batch_size or 2 * config.batch_size
    fp = json.dumps({**dict(fingerprint or {}), "config": config.as_dict(), "n_train": n, "n_val": len(val_set),
                     "world_size": ctx.world_size}, sort_keys=True, default=str)

    s = {"epoch": 0, "batch_pos": 0, "step": 0, "evals": 0, "best_value": -1.0, "best_epoch": None, "bad_evals": 0,
         "loss_sum": 0.0, "loss_count": 0, "train_seconds": 0.0, "seqs_seen": 0, "stopped": False, "log": []}
    best_state: dict | None = None
    checkpoints = _Checkpoints(checkpoint_dir) if checkpoint_dir else None
    if resume and checkpoints is not None:
        loaded = checkpoints.load()
        if loaded is None:
            log.warning("--resume: no checkpoint in %s; starting from the beginning", checkpoint_dir)
        else:
            model_state, best_state, state = loaded
            if state.get("format") != CHECKPOINT_FORMAT or state.get("fingerprint") != fp:
                raise UserError("the checkpoint was written by a run with other data or settings; remove it or "
                                "run without --resume", checkpoint_dir)
            model.load_state_dict(model_state)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if scaler is not None and state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            s = json.loads(state["progress"])
            _restore_rank_state(state, s, ctx.rank, device)
            log.info("resuming at epoch %d, step %d", s["epoch"] + 1, s["step"])
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)

    def save_checkpoint() -> None:
        if checkpoints is None:
            return
        ranks = distributed.gather_objects(_rank_state(s, device))
        if ctx.is_main:
            state = {"format": CHECKPOINT_FORMAT, "fingerprint": fp, "progress": json.dumps(s),
                     "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                     "scaler": scaler.state_dict() if scaler is not None else None, "ranks": ranks}
            checkpoints.save(s["step"], _cpu_state(model), best_state, state)
        distributed.barrier()

    def validate(epoch_float: float) -> None:
        nonlocal best_state
        logits = predict_sharded(model, adapter, val_items, eval_bs, device)
        loss_sum, loss_count = map(sum, zip(*distributed.gather_objects((s["loss_sum"], s["loss_count"]))))
        decision = None
        if ctx.is_main:
            metrics = binary_metrics(val_set.labels, logits)
            train_loss = loss_sum / loss_count if loss_count else None
            entry = {"epoch": round(epoch_float, 4), "step": s["step"], "train_loss": train_loss,
                     "learning_rate": scheduler.get_last_lr()[0], **{f"val_{k}": v for k, v in metrics.items()}}
            value = metrics["pr_auc"] if metrics["pr_auc"] is not None else 0.0
            log.info("epoch %.2f step %d: train loss %s, val PR-AUC %.4f ROC-AUC %.4f loss %.4f", epoch_float,
                     s["step"], f"{train_loss:.4f}" if train_loss is not None else "-", value,
                     metrics["roc_auc"] or 0.0, metrics["loss"])
            decision = {"entry": entry, "value": value, "improved": value > s["best_value"]}
        decision = distributed.broadcast_from_main(decision)
        s["evals"] += 1
        s["log"].append(decision["entry"])
        s["loss_sum"], s["loss_count"] = 0.0, 0
        value = decision["value"]
        if decision["improved"]:
            s["best_value"], s["best_epoch"], s["bad_evals"] = value, decision["entry"]["epoch"], 0
            best_state = _cpu_state(model)
        else:
            s["bad_evals"] += 1
            if s["bad_evals"] >= config.patience:
                s["stopped"] = True
                log.info("early stop: no better validation PR-AUC for %d validations", config.patience)
        if trial is not None:
            trial.report(value, s["evals"])
            if trial.should_prune():
                import optuna

                raise optuna.TrialPruned(f"pruned at validation {s['evals']} (PR-AUC {value:.4f})")

    model.train()
    while s["epoch"] < config.epochs and not s["stopped"]:
        batches = _shard(epoch_batches(n, s["epoch"], config, lengths), ctx)
        loader = torch.utils.data.DataLoader(_Batches(batches[s["batch_pos"]:], fwd, rc, labels, adapter),
                                             batch_size=None, shuffle=False, num_workers=config.num_workers,
                                             # its own generator: creating a loader must not draw from the
                                             # global RNG, or a resumed run would drift from dropout's stream
                                             generator=torch.Generator().manual_seed(config.seed))
        micro = s["batch_pos"]
        tick = time.perf_counter()
        for inputs, y in loader:
            inputs = {k: v.to(device, non_blocking=True) for k, v in inputs.items()}
            y = y.to(device)
            last_in_step = (micro + 1) % config.grad_accum == 0 or micro + 1 == len(batches)
            group_start = micro - micro % config.grad_accum
            group = min(config.grad_accum, len(batches) - group_start)
            with (net.no_sync() if not last_in_step and net is not model else contextlib.nullcontext()):
                with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=amp_dtype is not None):
                    z = positive_logodds(net(**inputs)).float()
                weights = y * pos_weight + (1 - y) * neg_weight
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y, weight=weights)
                scaled = loss / group
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            s["loss_sum"] += float(loss.detach()) * len(y)
            s["loss_count"] += len(y)
            s["seqs_seen"] += len(y)
            micro += 1
            s["batch_pos"] = micro
            if not last_in_step:
                continue
            if scaler is not None:
                scaler.unscale_(optimizer)
            if config.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            s["step"] += 1
            now = time.perf_counter()
            s["train_seconds"] += now - tick
            if config.eval_every and s["step"] % config.eval_every == 0 and micro < len(batches):
                validate(s["epoch"] + micro / len(batches))
                model.train()
            if config.checkpoint_every and s["step"] % config.checkpoint_every == 0 and micro < len(batches):
                save_checkpoint()
            if on_step is not None:
                on_step(s["step"])
            if s["stopped"]:
                break
            tick = time.perf_counter()
        if s["stopped"]:
            break
        s["epoch"] += 1
        s["batch_pos"] = 0
        validate(float(s["epoch"]))
        model.train()
        save_checkpoint()

    if best_state is None:
        best_state = _cpu_state(model)
    model.load_state_dict(best_state)
    model.eval()
    val_logits = predict_sharded(model, adapter, val_items, eval_bs, device)
    validation = binary_metrics(val_set.labels, val_logits)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.startswith("cuda") else None
    throughput = s["seqs_seen"] * ctx.world_size / s["train_seconds"] if s["train_seconds"] > 0 else None
    return TrainResult(best_state, validation, val_logits, s["log"], s["best_epoch"], s["stopped"], s["step"],
                       throughput, s["train_seconds"], peak, config.as_dict())
