"""Training checkpoints: folders ``step-NNNNNNNN/`` (model.safetensors, best.safetensors, state.pt)
under one directory, and a ``latest.json`` pointer written last, so a kill while saving leaves
the previous checkpoint usable. ``state.pt`` holds only tensors and plain data and is read with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import os
import shutil

CHECKPOINT_FORMAT = 1


class Checkpoints:
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
