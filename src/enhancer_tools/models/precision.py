"""Device and numeric precision for running a torch model: the one place that decides which
dtype autocast uses, for the trainers, validation and scoring alike.

Precision names: ``auto`` (bfloat16 on GPUs that support it, else float16 on GPUs; float32 on
the CPU), ``fp32``, ``bf16``, ``fp16`` (GPU only).
"""

from __future__ import annotations

import contextlib

from enhancer_tools.errors import UserError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when available else 'cpu'; 'cuda' without CUDA is a UserError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device} was asked for but no CUDA device is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise UserError(f"unknown device {device!r}; use auto, cpu or cuda")
    return device


def autocast_dtype(precision: str, device: str):
    """The autocast dtype of ``precision`` on ``device``; None means plain float32.

    ``auto`` is float32 on the CPU; ``bf16`` is honoured on the CPU too (CPU autocast)."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    on_gpu = str(device).startswith("cuda")
    if precision == "fp32" or (precision == "auto" and not on_gpu):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and not on_gpu:
        return None
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def autocast(precision: str, device: str):
    """The autocast context for ``precision`` on ``device`` (a no-op for float32)."""
    import torch

    dtype = autocast_dtype(precision, device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda" if str(device).startswith("cuda") else "cpu", dtype=dtype)


def needs_grad_scaler(precision: str, device: str) -> bool:
    """True when training in float16, which needs ``torch.amp.GradScaler``."""
    import torch

    return autocast_dtype(precision, device) == torch.float16


def enable_tf32(device: str) -> None:
    """Let float32 matmuls and convolutions use TF32 tensor cores on a CUDA ``device`` (what is
    left in float32 under autocast, and fp32 runs); a no-op elsewhere. Called where a CUDA run
    starts: the trainer and the scorer."""
    import torch

    if str(device).startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
