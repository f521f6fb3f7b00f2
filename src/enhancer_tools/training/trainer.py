"""The shared training loop for torch models (EnhancerNet, DNABERT-2), as a small object.

AdamW with linear warmup and decay, weight decay (not on biases and norms), gradient
accumulation and clipping, optional reverse-complement augmentation and class weights,
autocast of the settings' precision, validation every epoch (or every N optimizer steps),
early stopping on validation PR-AUC, the best weights kept, and checkpoints that resume exactly.

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
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from enhancer_tools.errors import UserError
from enhancer_tools.metrics.binary import binary_metrics
from enhancer_tools.models.adapter import TaskAdapter, take, to_device
from enhancer_tools.models.hyperparameters import (
    COSINE_FLOOR,
    SCHEDULERS,
    TrainingSettings,
    as_dict,
)
from enhancer_tools.models.precision import autocast, enable_tf32, needs_grad_scaler
from enhancer_tools.models.scorer import TorchScorer, positive_logodds
from enhancer_tools.seq import reverse_complement
from enhancer_tools.training import distributed
from enhancer_tools.training.checkpoints import CHECKPOINT_FORMAT, Checkpoints
from enhancer_tools.training.data import LabelledSet

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    """Where a run stands; saved (as JSON) in every checkpoint. The key names are those of the
    checkpoints written before this class existed, so those still resume."""

    epoch: int = 0
    batch_pos: int = 0  # micro-batches of the current epoch already done (this rank's shard)
    step: int = 0  # optimizer steps
    evals: int = 0
    best_value: float = -1.0
    best_epoch: float | None = None
    bad_evals: int = 0
    loss_sum: float = 0.0  # this rank's, since the last validation
    loss_count: int = 0
    train_seconds: float = 0.0
    seqs_seen: int = 0
    stopped: bool = False
    log: list = field(default_factory=list)


@dataclass
class TrainResult:
    """What a training run produced; the caller's model holds the best weights afterwards."""

    best_state: dict
    validation: dict
    val_logodds: np.ndarray
    log: list[dict]
    best_epoch: float | list[float]  # one per replicate for networks trained apart (training.fit)
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


def epoch_batches(n: int, epoch: int, settings: TrainingSettings, seed: int,
                  lengths: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(indices, strands) of each batch of ``epoch``: a seeded shuffle; with lengths, pools of
    ``bucket_batches`` batches sorted by length (less padding), batch order shuffled again."""
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g).numpy()
    strands = torch.randint(0, 2, (n,), generator=g).numpy() if settings.rc_augment else np.zeros(n, dtype=np.int64)
    bs = settings.batch_size
    if lengths is None:
        chunks = [perm[i:i + bs] for i in range(0, n, bs)]
    else:
        chunks = []
        pool = bs * settings.bucket_batches
        for p in range(0, n, pool):
            part = perm[p:p + pool]
            part = part[np.argsort(lengths[part], kind="stable")]
            chunks.extend(part[i:i + bs] for i in range(0, len(part), bs))
        order = torch.randperm(len(chunks), generator=g).numpy()
        chunks = [chunks[i] for i in order]
    return [(c, strands[c]) for c in chunks]


def shard(batches: list, ctx: distributed.DistContext) -> list:
    """This rank's batches: every world_size-th, the same number on every rank."""
    if ctx.world_size == 1:
        return batches
    if len(batches) < ctx.world_size:  # repeat so every rank runs the same number of steps
        batches = (batches * ctx.world_size)[: ctx.world_size]
    usable = len(batches) - len(batches) % ctx.world_size
    return batches[ctx.rank:usable:ctx.world_size]


def _gather(fwd, rc, idx: np.ndarray, strands: np.ndarray):
    if rc is None or not strands.any():
        return take(fwd, idx)
    if hasattr(fwd, "shape"):
        out = fwd[idx].copy()
        out[strands == 1] = rc[idx[strands == 1]]
        return out
    return [rc[i] if s else fwd[i] for i, s in zip(idx, strands)]


class _Batches:
    """Every epoch's batches as a map-style dataset keyed by (epoch, batch number), so that one
    DataLoader (and its persistent workers) serves the whole run: each process derives an
    epoch's batches from (seed, epoch) itself, once per epoch."""

    def __init__(self, data: "_Encoded", adapter, n: int, settings: TrainingSettings, seed: int,
                 ctx: distributed.DistContext) -> None:
        self.data, self.adapter, self.n, self.settings, self.seed, self.ctx = data, adapter, n, settings, seed, ctx
        self._epoch: int | None = None
        self._batches: list = []

    def batches(self, epoch: int) -> list:
        """This rank's (indices, strands) of each batch of ``epoch``."""
        if epoch != self._epoch:
            self._batches = shard(epoch_batches(self.n, epoch, self.settings, self.seed, self.data.lengths), self.ctx)
            self._epoch = epoch
        return self._batches

    def __getitem__(self, key: tuple[int, int]):
        import torch

        epoch, i = key
        idx, strands = self.batches(epoch)[i]
        inputs = self.adapter.collate(_gather(self.data.fwd, self.data.rc, idx, strands))
        return inputs, torch.from_numpy(self.data.labels[idx]).float()


class _EpochKeys:
    """The DataLoader's sampler: (epoch, i) for the batches of the epoch set last, from ``start``."""

    def __init__(self) -> None:
        self.epoch, self.start, self.count = 0, 0, 0

    def __iter__(self):
        return iter([(self.epoch, i) for i in range(self.start, self.count)])

    def __len__(self) -> int:
        return self.count - self.start


def lr_schedule(name: str, total: int, warmup: int) -> Callable[[int], float]:
    """The learning-rate factor of optimizer step ``step`` (0-based) of ``total``: linear warmup
    over ``warmup`` steps, then linear decay to 0, cosine decay to ``COSINE_FLOOR``, or constant."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown learning-rate schedule {name!r}; known: {', '.join(SCHEDULERS)}")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if name == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if name == "cosine":
            return COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)

    return factor


def optimizer_step(optimizer, scheduler, model, max_grad_norm: float, scaler=None) -> None:
    """One optimizer step of accumulated gradients: unscale (fp16), clip, step, advance the
    learning-rate schedule, clear the gradients."""
    import torch

    if scaler is not None:
        scaler.unscale_(optimizer)
    if max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def param_groups(model, weight_decay: float):
    """AdamW parameter groups: weight decay on matrices, none on biases and norms."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _cpu_state(model) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def predict_sharded(scorer: TorchScorer, items: Any, batch_size: int) -> np.ndarray:
    """Log-odds of every encoded item, each rank predicting its contiguous share (gathered back in
    order on every rank; the whole set on one process)."""
    ctx = distributed.current()
    if ctx.world_size == 1:
        return scorer.logits_of_items(items, batch_size)
    start, end = distributed.shard_bounds(len(items), ctx)
    part = scorer.logits_of_items(take(items, range(start, end)), batch_size)
    return np.concatenate(distributed.gather_objects(part))


def eval_batch_size(settings: TrainingSettings) -> int:
    """The batch size of validation passes: ``eval_batch_size``, or twice the training batch."""
    return settings.eval_batch_size or 2 * settings.batch_size


def validation_logodds(scorer: TorchScorer, val: Any, val_rc: Any, batch_size: int) -> np.ndarray:
    """Validation log-odds averaged over both strands, as score-regions scores by default, so
    that early stopping, the threshold and the temperature see the scores users will get."""
    return (predict_sharded(scorer, val, batch_size) + predict_sharded(scorer, val_rc, batch_size)) / 2


@dataclass
class _Encoded:
    """The training data as the adapter encodes it."""

    fwd: Any
    rc: Any
    val: Any
    val_rc: Any
    labels: np.ndarray
    lengths: np.ndarray | None

    @classmethod
    def of(cls, adapter: TaskAdapter, train_set: LabelledSet, val_set: LabelledSet, rc_augment: bool,
           encoded: Mapping[str, Any]) -> "_Encoded":
        fwd = encoded.get("train")
        fwd = adapter.encode(train_set.seqs) if fwd is None else fwd
        rc = None
        if rc_augment:
            rc = encoded.get("train_rc")
            rc = adapter.encode([reverse_complement(s) for s in train_set.seqs]) if rc is None else rc
        val = encoded.get("val")
        val = adapter.encode(val_set.seqs) if val is None else val
        val_rc = encoded.get("val_rc")
        val_rc = adapter.encode([reverse_complement(s) for s in val_set.seqs]) if val_rc is None else val_rc
        return cls(fwd, rc, val, val_rc, train_set.labels.astype(np.float32), adapter.lengths(fwd))


class Trainer:
    """Trains ``model`` (already built and seeded) on ``train_set``, validating on ``val_set``.

    ``checkpoint_dir``: where checkpoints go (rank 0 writes); ``fingerprint``: what a checkpoint
    must match to be resumed. ``trial``: an Optuna trial that receives validation PR-AUC after
    each validation and may prune the run. ``on_step(step)`` is called after every optimizer step
    (tests stop a run with it). ``encoded``: pre-encoded {"train", "train_rc", "val", "val_rc"} to reuse.
    """

    def __init__(self, model, adapter: TaskAdapter, train_set: LabelledSet, val_set: LabelledSet,
                 settings: TrainingSettings, *, seed: int = 1, device: str = "cpu", checkpoint_dir: str | None = None,
                 trial=None, on_step: Callable[[int], None] | None = None, fingerprint: Mapping | None = None,
                 encoded: Mapping[str, Any] | None = None) -> None:
        import torch

        self.ctx = distributed.current()
        self.model, self.adapter, self.val_set, self.settings = model.to(device), adapter, val_set, settings
        self.seed, self.device, self.trial, self.on_step = seed, device, trial, on_step
        if self.ctx.world_size > 1:  # the same initial weights everywhere, but each rank its own dropout stream
            torch.manual_seed(seed + 7919 * self.ctx.rank)
        self.data = _Encoded.of(adapter, train_set, val_set, settings.rc_augment, dict(encoded or {}))
        self.n = len(train_set)
        self.net = model
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            self.net = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[device] if device.startswith("cuda") else None)
        enable_tf32(device)
        on_gpu = device.startswith("cuda")
        self.optimizer = torch.optim.AdamW(param_groups(model, settings.weight_decay), lr=settings.learning_rate,
                                           **({"fused": True} if on_gpu else {}))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor(settings))
        self.scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(settings.precision, device) else None
        # validation scores the way score-regions will: the training precision, length-bucketed
        self.scorer = TorchScorer(model, adapter, device, settings.precision)
        self.eval_batch_size = eval_batch_size(settings)
        self.class_weights = self._class_weights()
        self.fingerprint = json.dumps({**dict(fingerprint or {}), "config": {**as_dict(settings), "seed": seed},
                                       "n_train": self.n, "n_val": len(val_set), "world_size": self.ctx.world_size},
                                      sort_keys=True, default=str)
        self.checkpoints = Checkpoints(checkpoint_dir) if checkpoint_dir else None
        self.state = TrainState()
        self.best_state: dict | None = None
        self._loss = None  # the running loss sum on the device, state.loss_sum included (see _read_loss)
        self._keys = _EpochKeys()
        self._loader = None

    def _lr_factor(self, settings: TrainingSettings) -> Callable[[int], float]:
        n_batches = len(shard(epoch_batches(self.n, 0, settings, self.seed, self.data.lengths), self.ctx))
        total = max(1, math.ceil(n_batches / settings.grad_accum) * settings.epochs)
        return lr_schedule(settings.scheduler, total, int(settings.warmup_ratio * total))

    def _class_weights(self) -> tuple[float, float]:
        if not self.settings.class_weights:
            return 1.0, 1.0
        n_pos = float(self.data.labels.sum())
        return self.n / (2 * n_pos), self.n / (2 * (self.n - n_pos))

    def run(self, resume: bool = False) -> TrainResult:
        """Train to the end (epochs or early stop), continuing the latest checkpoint when ``resume``."""
        import torch

        if resume:
            self.resume()
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(self.device)
        self.model.train()
        while self.state.epoch < self.settings.epochs and not self.state.stopped:
            self._run_epoch()
            if self.state.stopped:
                break
            self.state.epoch += 1
            self.state.batch_pos = 0
            self.validate(float(self.state.epoch))
            self.checkpoint()
        return self._finish()

    def _data_loader(self):
        """The run's one DataLoader (pinned batches on a GPU; workers kept across epochs)."""
        import torch

        if self._loader is None:
            workers = self.settings.num_workers
            dataset = _Batches(self.data, self.adapter, self.n, self.settings, self.seed, self.ctx)
            self._loader = torch.utils.data.DataLoader(
                dataset, sampler=self._keys, batch_size=None, num_workers=workers,
                pin_memory=self.device.startswith("cuda"), persistent_workers=workers > 0,
                # its own generator: creating a loader must not draw from the global RNG, or a
                # resumed run would drift from dropout's stream
                generator=torch.Generator().manual_seed(self.seed))
        return self._loader

    def _run_epoch(self) -> None:
        loader = self._data_loader()
        n_batches = len(loader.dataset.batches(self.state.epoch))
        self._keys.epoch, self._keys.start, self._keys.count = self.state.epoch, self.state.batch_pos, n_batches
        tick = time.perf_counter()
        for inputs, y in loader:
            if not self.step(inputs, y, n_batches):
                continue
            self.state.train_seconds += time.perf_counter() - tick
            if self._after_step(n_batches) or self.state.stopped:
                break
            tick = time.perf_counter()

    def step(self, inputs: dict, y, n_batches: int) -> bool:
        """One micro-batch: forward, backward, and the optimizer step when its group is complete.
        Returns whether an optimizer step was taken."""
        import torch

        s, accum = self.state, self.settings.grad_accum
        inputs = to_device(inputs, self.device)
        y = y.to(self.device, non_blocking=True)
        micro = s.batch_pos
        last_in_step = (micro + 1) % accum == 0 or micro + 1 == n_batches
        group = min(accum, n_batches - (micro - micro % accum))
        with (self.net.no_sync() if not last_in_step and self.net is not self.model else contextlib.nullcontext()):
            with autocast(self.settings.precision, self.device):
                z = positive_logodds(self.net(**inputs)).float()
            pos_weight, neg_weight = self.class_weights
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y, weight=y * pos_weight + (1 - y) * neg_weight)
            scaled = loss / group
            (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
        if self._loss is None:  # the same float64 sums as adding float(loss) * len(y), without a host sync
            self._loss = torch.tensor(s.loss_sum, dtype=torch.float64, device=self.device)
        self._loss += loss.detach().double() * len(y)
        s.loss_count += len(y)
        s.seqs_seen += len(y)
        s.batch_pos = micro + 1
        if not last_in_step:
            return False
        self._optimizer_step()
        return True

    def _read_loss(self) -> None:
        """Bring the device's loss sum into ``state.loss_sum`` (a host sync: validation and
        checkpoints only)."""
        if self._loss is not None:
            self.state.loss_sum, self._loss = float(self._loss), None

    def _optimizer_step(self) -> None:
        optimizer_step(self.optimizer, self.scheduler, self.model, self.settings.max_grad_norm, self.scaler)
        self.state.step += 1

    def _after_step(self, n_batches: int) -> bool:
        """Validation and checkpoint every N steps within an epoch; the test hook. Returns whether
        the epoch should end now (early stop)."""
        s, cfg = self.state, self.settings
        inside = s.batch_pos < n_batches
        if cfg.eval_every and s.step % cfg.eval_every == 0 and inside:
            self.validate(s.epoch + s.batch_pos / n_batches)
            self.model.train()
        if cfg.checkpoint_every and s.step % cfg.checkpoint_every == 0 and inside:
            self.checkpoint()
        if self.on_step is not None:
            self.on_step(s.step)
        return s.stopped

    def validate(self, epoch_float: float) -> None:
        """Validate (sharded over ranks), log, and apply rank 0's early-stopping decision."""
        s = self.state
        self._read_loss()
        logits = self._val_logodds()
        loss_sum, loss_count = map(sum, zip(*distributed.gather_objects((s.loss_sum, s.loss_count))))
        decision = self._decide(epoch_float, logits, loss_sum, loss_count) if self.ctx.is_main else None
        decision = distributed.broadcast_from_main(decision)
        s.evals += 1
        s.log.append(decision["entry"])
        s.loss_sum, s.loss_count = 0.0, 0
        if decision["improved"]:
            s.best_value, s.best_epoch, s.bad_evals = decision["value"], decision["entry"]["epoch"], 0
            self.best_state = _cpu_state(self.model)
        else:
            s.bad_evals += 1
            if s.bad_evals >= self.settings.patience:
                s.stopped = True
                log.info("early stop: no better validation PR-AUC for %d validations", self.settings.patience)
        if self.trial is not None:
            self.trial.report(decision["value"], s.evals)
            if self.trial.should_prune():
                import optuna

                raise optuna.TrialPruned(f"pruned at validation {s.evals} (PR-AUC {decision['value']:.4f})")

    def _val_logodds(self) -> np.ndarray:
        return validation_logodds(self.scorer, self.data.val, self.data.val_rc, self.eval_batch_size)

    def _decide(self, epoch_float: float, logits: np.ndarray, loss_sum: float, loss_count: int) -> dict:
        metrics = binary_metrics(self.val_set.labels, logits)
        train_loss = loss_sum / loss_count if loss_count else None
        entry = {"epoch": round(epoch_float, 4), "step": self.state.step, "train_loss": train_loss,
                 "learning_rate": self.scheduler.get_last_lr()[0], **{f"val_{k}": v for k, v in metrics.items()}}
        value = metrics["pr_auc"] if metrics["pr_auc"] is not None else 0.0
        log.info("epoch %.2f step %d: train loss %s, val PR-AUC %.4f ROC-AUC %.4f loss %.4f", epoch_float,
                 self.state.step, f"{train_loss:.4f}" if train_loss is not None else "-", value,
                 metrics["roc_auc"] or 0.0, metrics["loss"])
        return {"entry": entry, "value": value, "improved": value > self.state.best_value}

    def checkpoint(self) -> None:
        """Save the run (rank 0 writes; every rank's RNG and loss sums go in)."""
        if self.checkpoints is None:
            return
        self._read_loss()
        ranks = distributed.gather_objects(_rank_state(self.state, self.device))
        if self.ctx.is_main:
            state = {"format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint,
                     "progress": json.dumps(asdict(self.state)), "optimizer": self.optimizer.state_dict(),
                     "scheduler": self.scheduler.state_dict(),
                     "scaler": self.scaler.state_dict() if self.scaler is not None else None, "ranks": ranks}
            self.checkpoints.save(self.state.step, _cpu_state(self.model), self.best_state, state)
        distributed.barrier()

    def resume(self) -> None:
        """Continue from the latest checkpoint (warned about and ignored when there is none)."""
        loaded = self.checkpoints.load() if self.checkpoints is not None else None
        if loaded is None:
            log.warning("--resume: no checkpoint in %s; starting from the beginning",
                        self.checkpoints.directory if self.checkpoints else None)
            return
        model_state, self.best_state, state = loaded
        if state.get("format") != CHECKPOINT_FORMAT or state.get("fingerprint") != self.fingerprint:
            raise UserError("the checkpoint was written by a run with other data or settings; remove it or "
                            "run without --resume", self.checkpoints.directory)
        self.model.load_state_dict(model_state)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.state = TrainState(**json.loads(state["progress"]))
        self._loss = None
        _restore_rank_state(state, self.state, self.ctx.rank, self.device)
        log.info("resuming at epoch %d, step %d", self.state.epoch + 1, self.state.step)

    def _finish(self) -> TrainResult:
        import torch

        s = self.state
        self._read_loss()
        self._loader = None  # lets its workers go (a study runs many trainers in one process)
        if self.best_state is None:
            self.best_state = _cpu_state(self.model)
        self.model.load_state_dict(self.best_state)
        self.model.eval()
        val_logits = self._val_logodds()
        validation = binary_metrics(self.val_set.labels, val_logits)
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.startswith("cuda") else None
        throughput = s.seqs_seen * self.ctx.world_size / s.train_seconds if s.train_seconds > 0 else None
        return TrainResult(self.best_state, validation, val_logits, s.log, s.best_epoch, s.stopped, s.step,
                           throughput, s.train_seconds, peak, {**as_dict(self.settings), "seed": self.seed})


def _rank_state(s: TrainState, device: str) -> dict:
    """What differs between ranks and must survive a restart: RNG streams and loss sums."""
    import torch

    return {"rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(device) if device.startswith("cuda") else None,
            "loss_sum": s.loss_sum, "loss_count": s.loss_count, "seqs_seen": s.seqs_seen}


def _restore_rank_state(state: dict, s: TrainState, rank: int, device: str) -> None:
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
            setattr(s, key, mine[key])


def train(model, adapter: TaskAdapter, train_set: LabelledSet, val_set: LabelledSet, settings: TrainingSettings, *,
          seed: int = 1, resume: bool = False, **options) -> TrainResult:
    """Train with a ``Trainer`` (see there for ``options``); the model is left holding the best weights."""
    return Trainer(model, adapter, train_set, val_set, settings, seed=seed, **options).run(resume)
