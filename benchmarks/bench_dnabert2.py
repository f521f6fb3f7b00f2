"""Throughput of the native DNABERT-2: training (forward + backward + AdamW step) and inference.

Modes: ``trainer`` times the tool's own micro-batch, ``Trainer.step`` (host-to-device copy,
autocast, loss bookkeeping, clipping, fused AdamW, scheduler: what dnabert2-finetune runs);
``train`` times a bare forward/backward/AdamW loop (no clipping, all-ones mask, batch already
on the device): an upper bound, not the tool's figure; ``infer`` a bare forward loop.
``benchmarks/gpu_check.py`` reports the ratio of the two training figures.

DNABERT-2-117M shape with random weights, sequences of exactly ``--tokens`` tokens (1 kb of DNA
is ~232 BPE tokens), eager vs fused (SDPA) attention. On CUDA it runs under bf16 autocast (fp16
with a gradient scaler where bf16 is missing) and reports MFU:

    training MFU  = 6 x non-embedding parameters x tokens / time / peak bf16 dense FLOP/s
    inference MFU = 2 x non-embedding parameters x tokens / time / peak

(attention score FLOPs are not counted, as in the issue's target). On CPU it runs float32.

    python benchmarks/bench_dnabert2.py --batch 256 --steps 20            # GPU: sdpa, flex, eager
    python benchmarks/bench_dnabert2.py --batch 2 --steps 2 --warmup 1    # CPU smoke figures
"""

from __future__ import annotations

import argparse
import json
import platform

import torch

from enhancer_tools.models.dnabert2 import (
    DNABERT2Config,
    DNABERT2ForSequenceClassification,
)
from enhancer_tools.models.precision import autocast, autocast_dtype, needs_grad_scaler
from gpu_check import seconds_per_call  # beside this script: the one timing loop of the benchmarks

# Dense bf16 tensor-core peak, FLOP/s (vendor datasheets, without sparsity).
PEAK_BF16_FLOPS = {
    "H200": 989e12,
    "H100 SXM": 989e12,
    "H100 NVL": 835e12,
    "H100 PCIe": 756e12,
    "H100": 989e12,
    "A100": 312e12,
}


def peak_flops(device: torch.device) -> tuple[str, float | None]:
    """Name of the card and its bf16 peak (None where the table has no entry)."""
    if device.type != "cuda":
        return platform.processor() or platform.machine(), None
    name = torch.cuda.get_device_name(device)
    for key, flops in PEAK_BF16_FLOPS.items():
        if all(part in name for part in key.split()):
            return name, flops
    return name, None


def make_batch(batch: int, tokens: int, vocab: int, device: torch.device, seed: int):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (batch, tokens), generator=generator)
    ids[:, 0], ids[:, -1] = 1, 2  # [CLS] ... [SEP]
    labels = torch.randint(0, 2, (batch,), generator=generator)
    # no padding: no mask, as ``adapter.to_device`` drops an all-ones mask before the model sees it
    return ids.to(device), None, labels.to(device)


def time_training(model, batch, device, steps: int, warmup: int) -> float:
    """Seconds per step of forward + backward + optimizer step."""
    ids, mask, labels = batch
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device.type == "cuda")
    scaler = torch.amp.GradScaler(device.type, enabled=needs_grad_scaler("auto", str(device)))

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast("auto", str(device)):
            loss = model(ids, mask, labels=labels).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return seconds_per_call(step, steps, warmup, str(device))


def time_trainer(model, batch: int, tokens: int, device: torch.device, steps: int, warmup: int) -> float:
    """Seconds per ``Trainer.step`` (see ``gpu_check.make_trainer``)."""
    from gpu_check import FIXTURE, make_trainer, time_trainer_step

    from enhancer_tools.models.token_adapter import TokenAdapter

    if not (FIXTURE / "tokenizer.json").is_file():
        raise SystemExit(f"the trainer mode needs a tokenizer at {FIXTURE} (or use gpu_check.py, which makes one)")
    trainer, inputs, y = make_trainer(model, TokenAdapter(FIXTURE / "tokenizer.json", tokens), batch, tokens, str(device))
    return time_trainer_step(trainer, inputs, y, str(device), steps, warmup)


def time_inference(model, batch, device, steps: int, warmup: int) -> float:
    """Seconds per forward pass without gradients."""
    ids, mask, _ = batch
    model.eval()
    with torch.inference_mode(), autocast("auto", str(device)):
        return seconds_per_call(lambda: model(ids, mask), steps, warmup, str(device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256, help="training batch (inference uses --infer-batch)")
    parser.add_argument("--infer-batch", type=int, default=None, help="inference batch (default: 2 x --batch)")
    parser.add_argument("--tokens", type=int, default=232, help="tokens per sequence ([CLS] and [SEP] included)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--paths",
        default=None,
        help="attention implementations to time (default: sdpa,flex,eager on CUDA, else sdpa,eager)",
    )
    parser.add_argument("--modes", default="trainer,train,infer", help="trainer (Trainer.step), train (bare loop), infer")
    parser.add_argument("--compile", action="store_true", help="torch.compile each encoder layer")
    parser.add_argument("--tiny", action="store_true", help="tiny config instead of the 117M shape")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object per measurement")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    card, peak = peak_flops(device)
    config = DNABERT2Config.tiny() if args.tiny else DNABERT2Config()
    precision = autocast_dtype("auto", str(device)) or torch.float32
    infer_batch = args.infer_batch or 2 * args.batch
    print(f"# device: {card}; precision: {str(precision).removeprefix('torch.')}; torch {torch.__version__}; "
          f"threads {torch.get_num_threads()}; tokens/seq {args.tokens}; compile {args.compile}")

    paths = args.paths or ("sdpa,flex,eager" if device.type == "cuda" else "sdpa,eager")
    for path in paths.split(","):
        torch.manual_seed(0)
        model = DNABERT2ForSequenceClassification(config).to(device)
        model.set_attention_implementation(path)
        if args.compile:
            model.compile_layers()
        non_embedding = model.num_parameters(exclude_embeddings=True)
        for mode in args.modes.split(","):
            batch_size = args.batch if mode in ("train", "trainer") else infer_batch
            if mode == "trainer":
                seconds = time_trainer(model, batch_size, args.tokens, device, args.steps, args.warmup)
            else:
                batch = make_batch(batch_size, args.tokens, config.vocab_size, device, seed=1)
                timer = time_training if mode == "train" else time_inference
                seconds = timer(model, batch, device, args.steps, args.warmup)
            tokens_per_s = batch_size * args.tokens / seconds
            flops_per_token = (2 if mode == "infer" else 6) * non_embedding
            result = {
                "device": card, "path": path, "mode": mode, "batch": batch_size, "tokens": args.tokens,
                "seconds_per_step": round(seconds, 4), "sequences_per_s": round(batch_size / seconds, 2),
                "tokens_per_s": round(tokens_per_s, 1), "non_embedding_params": non_embedding,
                "model_tflops": round(flops_per_token * tokens_per_s / 1e12, 3),
                "mfu": round(flops_per_token * tokens_per_s / peak, 4) if peak else None,
            }  # fmt: skip
            if args.json:
                print(json.dumps(result))
            else:
                mfu = f"{100 * result['mfu']:.1f}%" if result["mfu"] is not None else "n/a"
                print(f"{path:6s} {mode:5s} batch {batch_size:4d}: {result['sequences_per_s']:10.2f} seq/s "
                      f"{result['tokens_per_s']:12.1f} tok/s {result['model_tflops']:8.3f} TFLOP/s  MFU {mfu}")
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
