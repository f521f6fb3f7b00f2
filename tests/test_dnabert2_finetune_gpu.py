"""dnabert2-finetune on CUDA at the real 117M shape and 232 tokens (random weights): trains with
autocast, and reports throughput and peak GPU memory (the figures the model issue sets targets for)."""

import json
import random

import pytest
import torch
from dnabert2_finetune_helpers import FIXTURES, finetune

CONFIG = FIXTURES / "real_117M_config.json"
TOKENIZER = FIXTURES / "tokenizer.json"
pytestmark = [pytest.mark.gpu, pytest.mark.realdata,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
              pytest.mark.skipif(not CONFIG.is_file() or not TOKENIZER.is_file(), reason=f"fixture absent: {FIXTURES}")]


def _write(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(f">s{i} label={i % 2}\n{''.join(rng.choice('ACGT') for _ in range(1000))}\n")
    return path


@pytest.mark.parametrize("extra", [[], ["--gradient-checkpointing"]])
def test_117m_shape_trains_on_cuda(tmp_path, extra):
    train, val = _write(tmp_path / "train.fa", 2048, 1), _write(tmp_path / "val.fa", 256, 2)
    result = finetune("--train", train, "--val", val, "--init", CONFIG, "--tokenizer", TOKENIZER, "-o", tmp_path / "m",
                      "--max-length", 232, "--epochs", 1, "--batch-size", 32, "--device", "cuda", "--quiet",
                      "--json", tmp_path / "m.json", *extra)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    print(f"117M shape, 232 tokens, batch 32 {extra}: {metrics['throughput_seqs_per_s']} seq/s, "
          f"peak {metrics['peak_gpu_memory_mib']} MiB")
    assert metrics["peak_gpu_memory_mib"] > 0 and metrics["throughput_seqs_per_s"] > 0
