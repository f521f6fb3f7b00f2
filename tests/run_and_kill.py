"""Run a training tool as a real process (or a torchrun job), and kill it once its checkpoint
has passed a given optimizer step: the way a scheduler, an out-of-memory killer or a user's
Ctrl-C ends a job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def tool(name: str) -> list[str]:
    """The console script ``name`` as a user runs it."""
    return [str(BIN / name)]


def torchrun(module: str, nproc: int = 2) -> list[str]:
    """``torchrun --standalone --nproc_per_node N -m module`` with this interpreter (gloo on CPU)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", module]


def run(cmd: list, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run to the end; stdout/stderr captured as text."""
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=ENV, timeout=timeout)


def checkpoint_step(output: Path) -> int:
    """The optimizer step of the latest checkpoint of MODEL_DIR ``output`` (-1 when none)."""
    pointer = Path(f"{output}.work") / "checkpoint" / "latest.json"
    try:
        return json.loads(pointer.read_text())["step"]
    except (OSError, ValueError, KeyError):
        return -1


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (torchrun starts its workers in sessions of their own, so
    killing its process group would leave them running)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _kill_all(pid: int) -> None:
    for p in [pid, *_descendants(pid)]:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_until_checkpoint(cmd: list, output: Path, step: int, sig: int = signal.SIGKILL,
                         timeout: float = 240) -> tuple[int, int, str]:
    """Start ``cmd``; as soon as the checkpoint of ``output`` reaches ``step``, SIGKILL it and
    every process it started (as when a node dies), or send it another ``sig``; returns (exit
    code, checkpoint step, stderr)."""
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=ENV)
    deadline = time.monotonic() + timeout
    try:
        while checkpoint_step(output) < step:
            if proc.poll() is not None:
                raise AssertionError(f"the run ended (exit {proc.returncode}) before checkpoint step {step}: "
                                     f"{proc.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no checkpoint at step {step} within {timeout} s")
            time.sleep(0.005)
        _kill_all(proc.pid) if sig == signal.SIGKILL else proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            _kill_all(proc.pid)
            proc.wait()
    return proc.returncode, checkpoint_step(output), err


def same_weights(a: Path, b: Path) -> bool:
    """Whether two model directories hold bit-identical tensors."""
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def metrics(output: Path) -> dict:
    """The validation metrics and per-validation log saved in a model directory."""
    prov = json.loads((output / "provenance.json").read_text())
    return {"validation": prov["metrics"]["validation"], "epochs": prov["metrics"]["epochs"]}
