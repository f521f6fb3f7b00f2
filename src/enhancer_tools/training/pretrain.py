"""Continued masked-language-model pretraining of DNABERT-2 (``dnabert2-pretrain``).

The loop shares the trainers' machinery (AdamW with the same parameter groups, linear warmup
then decay, gradient accumulation and clipping, autocast of ``models.precision``, checkpoints
of ``training.checkpoints``, torchrun DDP) but not their epoch structure: the corpus
(``training.mlm_corpus``) is streamed, so what a step trains on is a pure function of
(seed, step). Optimizer step ``s`` takes micro-batches ``s * grad_accum + j`` of the run; the
tiles of a micro-batch are consecutive slots of its epoch's seeded permutation of the training
tiles (rank r of W takes every W-th batch), its strands come from the same generator, and its
masking from a generator seeded by (seed, micro-batch, rank). Dropout uses the global torch RNG,
which is checkpointed; so a resumed run ends with the same weights as an uninterrupted one on
the CPU, and nothing but a step number says where the data stream stands.

Batches are read and tokenised by a producer thread while the model runs. Validation masks a
fixed subset of the held-out tiles once (seeded), so its masked-token accuracy and loss are
comparable across evaluations and across runs (whatever their seed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from enhancer_tools.errors import UserError
from enhancer_tools.io.prefetch import prefetch
from enhancer_tools.models.precision import autocast, enable_tf32, needs_grad_scaler
from enhancer_tools.progress import progress
from enhancer_tools.tokenize.encode import encode_sequences
from enhancer_tools.training import distributed
from enhancer_tools.training.checkpoints import CHECKPOINT_FORMAT, Checkpoints
from enhancer_tools.training.mlm_corpus import (
    IGNORE_INDEX,
    Corpus,
    MaskingRule,
    pad_batch,
)
from enhancer_tools.training.pretrain_settings import PretrainSettings
from enhancer_tools.training.trainer import lr_schedule, optimizer_step, param_groups

log = logging.getLogger(__name__)
_PREFETCH = 4  # micro-batches the producer thread prepares ahead
# validation tiles are masked the same way whatever --seed, so curves of different runs compare
_VALIDATION_MASK_SEED = 20_240_318


@dataclass
class PretrainState:
    """Where a run stands; saved in every checkpoint."""

    step: int = 0
    tokens_seen: int = 0  # this rank's real tokens (no padding); summed over the ranks where reported
    masked_seen: int = 0  # this rank's chosen tokens
    train_seconds: float = 0.0
    loss_sum: float = 0.0  # this rank's masked-token loss sum since the last validation
    loss_count: int = 0
    log: list = field(default_factory=list)


@dataclass
class PretrainResult:
    steps: int
    steps_per_epoch: int
    tokens_seen: int
    masked_tokens_seen: int
    train_seconds: float
    log: list
    validation: dict
    tokens_per_s: float | None
    peak_gpu_memory_mib: float | None


class _EvalSet:
    """The validation tiles, tokenised and masked once (the same masking at every evaluation)."""

    def __init__(self, corpus: Corpus, tokenizer, rule: MaskingRule, settings: PretrainSettings) -> None:
        n = len(corpus.val)
        pick = np.unique(np.linspace(0, n - 1, min(n, settings.val_max_tiles)).astype(np.int64)) if n else []
        seqs = corpus.sequences(corpus.val.take(np.asarray(pick, dtype=np.int64))) if n else []
        pad_id = tokenizer.token_to_id("[PAD]")
        g = torch.Generator().manual_seed(_VALIDATION_MASK_SEED)
        self.batches = []
        size = settings.eval_batch_size or 2 * settings.batch_size
        for b in range(0, len(seqs), size):
            ids, attention = pad_batch(encode_sequences(tokenizer, seqs[b:b + size], settings.max_tokens), pad_id)
            inputs, labels = rule.apply(ids, g)
            self.batches.append(chosen_positions(inputs, attention, labels))
        self.tiles = len(seqs)
        if not seqs:
            log.warning("no tile was held out for validation (raise --val-fraction): no masked-accuracy curve")
        masked = torch.cat([targets for *_, targets in self.batches]) if self.batches else None
        self.masked = int(masked.numel()) if masked is not None else 0
        # accuracy of always guessing the commonest masked token: the floor a model must clear
        self.majority = float(torch.bincount(masked).max() / self.masked) if self.masked else None


def chosen_positions(inputs, attention, labels) -> tuple:
    """A masked batch as the loss takes it: (inputs, attention, flat indices of the chosen
    positions, their original tokens), found on the CPU so that the device never waits on a
    ``nonzero``."""
    positions = torch.nonzero(labels.flatten() != IGNORE_INDEX).squeeze(1)
    return inputs, attention, positions, labels.flatten()[positions]


def _masked_lm_loss(model, inputs, attention, positions, targets):
    """(summed cross-entropy, correct predictions) at the chosen positions. The vocabulary logits
    are computed at those positions only (as the original DNABERT-2 does): the loss is the same
    as over full [B, L, V] logits, for ~15% of the head's cost."""
    hidden = model.bert(inputs, attention).last_hidden_state
    logits = model.cls(hidden.flatten(0, 1).index_select(0, positions)).float()
    loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
    return loss, (logits.argmax(-1) == targets).sum()


class MaskedLMObjective(torch.nn.Module):
    """The model's loss as one module call, so that DDP (which wraps it) sees the whole forward."""

    def __init__(self, model) -> None:
        super().__init__()
        self.inner = model

    def forward(self, inputs, attention, positions, targets):
        return _masked_lm_loss(self.inner, inputs, attention, positions, targets)


class Pretrainer:
    """Masked-LM pretraining of ``model`` (a DNABERT2ForMaskedLM, built and seeded) on ``corpus``.

    ``checkpoint_dir``: where checkpoints go (rank 0 writes); ``fingerprint``: what a checkpoint
    must match to be resumed; ``on_step(step)`` is called after every optimizer step (tests stop
    a run with it)."""

    def __init__(self, model, corpus: Corpus, tokenizer, rule: MaskingRule, settings: PretrainSettings, *,
                 seed: int = 1, device: str = "cpu", checkpoint_dir: str | None = None,
                 fingerprint: dict | None = None, on_step: Callable[[int], None] | None = None) -> None:
        self.ctx = distributed.current()
        self.model, self.corpus, self.tokenizer, self.rule = model.to(device), corpus, tokenizer, rule
        self.settings, self.seed, self.device, self.on_step = settings, seed, device, on_step
        if self.ctx.world_size > 1:  # the same initial weights everywhere, each rank its own dropout stream
            torch.manual_seed(seed + 7919 * self.ctx.rank)
        self.net = self.objective = MaskedLMObjective(model)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.objective, device_ids=[device] if device.startswith("cuda") else None)
        enable_tf32(device)
        self.pad_id = tokenizer.token_to_id("[PAD]")
        per_step = settings.batch_size * self.ctx.world_size * settings.grad_accum
        self.steps_per_epoch = max(1, len(corpus.train) // per_step)
        self.total_steps = settings.steps or settings.epochs * self.steps_per_epoch
        self.optimizer = torch.optim.AdamW(param_groups(model, settings.weight_decay), lr=settings.learning_rate,
                                           **({"fused": True} if device.startswith("cuda") else {}))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor())
        self.scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(settings.precision, device) else None
        self.eval_set = _EvalSet(corpus, tokenizer, rule, settings)
        self.fingerprint = json.dumps({**dict(fingerprint or {}), "settings": asdict(settings), "seed": seed,
                                       "tiles_train": len(corpus.train), "tiles_val": len(corpus.val),
                                       "world_size": self.ctx.world_size}, sort_keys=True, default=str)
        self.checkpoints = Checkpoints(checkpoint_dir) if checkpoint_dir else None
        self.state = PretrainState()
        self._loss = None  # the running training loss sum on the device (see _read_loss)
        self._epoch_order: tuple[int, np.ndarray, np.ndarray] | None = None

    def _lr_factor(self) -> Callable[[int], float]:
        total = self.total_steps
        return lr_schedule("linear", total, int(self.settings.warmup_ratio * total))

    # -- data ---------------------------------------------------------------------------------

    def _order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's permutation of the training tiles and each slot's strand (1: reverse)."""
        if self._epoch_order is None or self._epoch_order[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            n = len(self.corpus.train)
            perm = torch.randperm(n, generator=g).numpy()
            strands = torch.randint(0, 2, (n,), generator=g, dtype=torch.uint8).numpy() if self.settings.rc_augment \
                else np.zeros(n, dtype=np.uint8)
            self._epoch_order = (epoch, perm, strands)
        return self._epoch_order[1], self._epoch_order[2]

    def micro_batch(self, micro: int):
        """The run's micro-batch ``micro`` on this rank, as ``chosen_positions`` gives it."""
        s, ctx = self.settings, self.ctx
        per_epoch = self.steps_per_epoch * s.grad_accum
        epoch, m = divmod(micro, per_epoch)
        perm, strands = self._order(epoch)
        slots = ((m * ctx.world_size + ctx.rank) * s.batch_size + np.arange(s.batch_size)) % len(perm)
        tiles = self.corpus.train.take(perm[slots])
        seqs = self.corpus.sequences(tiles, strands[slots])
        ids, attention = pad_batch(encode_sequences(self.tokenizer, seqs, s.max_tokens), self.pad_id)
        g = torch.Generator().manual_seed((self.seed * 0x9E3779B1 + micro * 7919 + ctx.rank) % (1 << 62))
        inputs, labels = self.rule.apply(ids, g)
        return chosen_positions(inputs, attention, labels)

    def _stream(self, start_step: int) -> Iterator:
        accum = self.settings.grad_accum
        for micro in range(start_step * accum, self.total_steps * accum):
            yield self.micro_batch(micro)

    # -- training -----------------------------------------------------------------------------

    def run(self, resume: bool = False) -> PretrainResult:
        """Train to ``total_steps``, continuing the latest checkpoint when ``resume``."""
        if resume:
            self.resume()
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(self.device)
        if self.state.step == 0 and self.settings.eval_every:
            self.validate()  # the starting point of the curve
        self.model.train()
        batches = prefetch(self._stream(self.state.step), _PREFETCH, "mlm-batches")
        steps = progress(range(self.state.step, self.total_steps), desc="pretraining",
                         total=self.total_steps - self.state.step, unit="step")
        try:
            for _ in steps:
                tick = time.perf_counter()
                self.train_step([next(batches) for _ in range(self.settings.grad_accum)])
                self.state.train_seconds += time.perf_counter() - tick
                self._after_step()
        finally:
            batches.close()  # stops the producer thread
        if not self.state.log or self.state.log[-1]["step"] != self.state.step:
            self.validate()
        return self._finish()

    def train_step(self, micro_batches: list) -> None:
        """One optimizer step over ``grad_accum`` micro-batches."""
        s = self.state
        for j, batch in enumerate(micro_batches):
            n_masked, n_tokens = len(batch[3]), int(batch[1].sum())  # counted on the CPU: no device sync
            batch = [t.to(self.device, non_blocking=True) for t in batch]
            last = j + 1 == len(micro_batches)
            sync = contextlib.nullcontext() if last or self.net is self.objective else self.net.no_sync()
            with sync:
                with autocast(self.settings.precision, self.device):
                    loss_sum, _ = self.net(*batch)
                loss = loss_sum / max(1, n_masked) / len(micro_batches)
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            if self._loss is None:  # the running sum stays on the device until validation or a checkpoint
                self._loss = torch.tensor(s.loss_sum, dtype=torch.float64, device=self.device)
            self._loss += loss_sum.detach().double()
            s.loss_count += n_masked
            s.tokens_seen += n_tokens
            s.masked_seen += n_masked
        optimizer_step(self.optimizer, self.scheduler, self.model, self.settings.max_grad_norm, self.scaler)
        s.step += 1

    def _after_step(self) -> None:
        cfg, step = self.settings, self.state.step
        if cfg.eval_every and step % cfg.eval_every == 0 and step < self.total_steps:
            self.validate()
            self.model.train()
            if not cfg.checkpoint_every:
                self.checkpoint()
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < self.total_steps:
            self.checkpoint()
        if self.on_step is not None:
            self.on_step(step)

    def evaluate(self) -> dict:
        """Masked-token loss and accuracy on the validation set (sharded over the ranks)."""
        start, end = distributed.shard_bounds(len(self.eval_set.batches), self.ctx)
        loss_sum, correct, count = 0.0, 0, 0
        self.model.eval()
        with torch.no_grad():
            for batch in self.eval_set.batches[start:end]:
                count += len(batch[3])
                with autocast(self.settings.precision, self.device):
                    batch_loss, batch_correct = _masked_lm_loss(self.model, *(t.to(self.device) for t in batch))
                loss_sum += float(batch_loss)
                correct += int(batch_correct)
        loss_sum, correct, count = map(sum, zip(*distributed.gather_objects((loss_sum, correct, count))))
        return {"loss": loss_sum / count if count else None, "masked_accuracy": correct / count if count else None,
                "masked_tokens": count}

    @staticmethod
    def _summed(*values) -> list:
        """Each value summed over the ranks (a collective: every rank calls it)."""
        return [sum(column) for column in zip(*distributed.gather_objects(values))]

    def _read_loss(self) -> None:
        """Bring the device's running loss sum into the state (a host sync: validation and checkpoints only)."""
        if self._loss is not None:
            self.state.loss_sum, self._loss = float(self._loss), None

    def validate(self) -> None:
        """Evaluate, log and record one point of the curve (every rank computes the same entry)."""
        s = self.state
        self._read_loss()
        metrics = self.evaluate()
        loss_sum, loss_count, tokens = self._summed(s.loss_sum, s.loss_count, s.tokens_seen)
        entry = {"step": s.step, "epoch": round(s.step / self.steps_per_epoch, 4), "tokens_seen": tokens,
                 "train_loss": loss_sum / loss_count if loss_count else None,
                 "learning_rate": self.scheduler.get_last_lr()[0],
                 "val_loss": metrics["loss"], "val_masked_accuracy": metrics["masked_accuracy"]}
        s.log.append(entry)
        s.loss_sum, s.loss_count = 0.0, 0
        if metrics["loss"] is not None:
            log.info("step %d/%d: train loss %s, validation masked accuracy %.4f, loss %.4f", s.step,
                     self.total_steps, f"{entry['train_loss']:.4f}" if entry["train_loss"] is not None else "-",
                     metrics["masked_accuracy"], metrics["loss"])

    # -- checkpoints --------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Save the run (rank 0 writes; every rank's RNG and loss sums go in)."""
        if self.checkpoints is None:
            return
        self._read_loss()
        s = self.state
        ranks = distributed.gather_objects({
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if self.device.startswith("cuda") else None,
            "loss_sum": s.loss_sum, "loss_count": s.loss_count, "tokens_seen": s.tokens_seen,
            "masked_seen": s.masked_seen})
        if self.ctx.is_main:
            weights = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
            state = {"format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint,
                     "progress": json.dumps(asdict(s)), "optimizer": self.optimizer.state_dict(),
                     "scheduler": self.scheduler.state_dict(),
                     "scaler": self.scaler.state_dict() if self.scaler is not None else None, "ranks": ranks}
            self.checkpoints.save(s.step, weights, None, state)
        distributed.barrier()

    def resume(self) -> None:
        """Continue from the latest checkpoint (warned about and ignored when there is none)."""
        loaded = self.checkpoints.load() if self.checkpoints is not None else None
        if loaded is None:
            log.warning("--resume: no checkpoint found; starting from the beginning")
            return
        weights, _, state = loaded
        if state.get("format") != CHECKPOINT_FORMAT or state.get("fingerprint") != self.fingerprint:
            raise UserError("the checkpoint was written by a run with other data or settings; remove it or "
                            "run without --resume", self.checkpoints.directory)
        self.model.load_state_dict(weights)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.state = PretrainState(**json.loads(state["progress"]))
        self._loss = None
        mine = state["ranks"][self.ctx.rank]
        torch.set_rng_state(mine["rng_cpu"])
        if mine.get("rng_cuda") is not None and self.device.startswith("cuda"):
            torch.cuda.set_rng_state(mine["rng_cuda"], self.device)
        for key in ("loss_sum", "loss_count", "tokens_seen", "masked_seen"):
            setattr(self.state, key, mine[key])
        log.info("resuming at step %d of %d", self.state.step, self.total_steps)

    def _finish(self) -> PretrainResult:
        s = self.state
        self.model.eval()
        last = s.log[-1] if s.log else {}
        validation = {"masked_accuracy": last.get("val_masked_accuracy"), "loss": last.get("val_loss"),
                      "tiles": self.eval_set.tiles, "masked_tokens": self.eval_set.masked,
                      "majority_token_accuracy": self.eval_set.majority}
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.startswith("cuda") else None
        tokens, masked = self._summed(s.tokens_seen, s.masked_seen)
        rate = tokens / s.train_seconds if s.train_seconds > 0 else None
        return PretrainResult(s.step, self.steps_per_epoch, tokens, masked, s.train_seconds, s.log,
                              validation, rate, peak)


def total_steps_note(settings: PretrainSettings, n_train: int, world_size: int) -> str:
    """A one-line description of the run length, for the log."""
    per_step = settings.batch_size * world_size * settings.grad_accum
    per_epoch = max(1, n_train // per_step)
    total = settings.steps or settings.epochs * per_epoch
    return f"{total} optimizer steps of {per_step} tiles ({total / per_epoch:.3g} epochs of {n_train} tiles)"
