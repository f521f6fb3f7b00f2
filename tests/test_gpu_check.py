"""benchmarks/gpu-check.sh: its --cpu-smoke mode runs every step on the CPU, so the script cannot
rot; on an H100-class GPU the measured throughput meets the issue's targets (gpu marker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu-check.sh"


def gpu_check():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.pop(0)
    return gpu_check


@pytest.mark.slow
def test_cpu_smoke_runs_every_step(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(SCRIPT), "--cpu-smoke", "--out", str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "gpu-check.json").read_text())
    for step in gpu_check().STEPS:
        assert step in result, step
    assert result["seconds"] < 120
    training = {r["path"]: r for r in result["training"]}
    assert training["sdpa"]["seq_per_s"] > 0 and training["compile"]["seq_per_s"] > 0
    assert training["flex"]["error"].startswith("skipped")
    assert all(r["records_per_s"] > 0 for r in result["scoring"]["rows"])
    assert result["training_overhead"]["overhead"] is not None and result["scoring_overhead"]["ratio"] > 0
    (pretraining,) = result["pretraining"]  # the masked-LM optimizer step of dnabert2-pretrain
    assert "error" not in pretraining, pretraining["error"]
    assert pretraining["batch"] == gpu_check().SMOKE_PLAN.pretrain_batches[0]
    assert pretraining["seq_per_s"] > 0 and pretraining["tokens_per_s"] > 0 and pretraining["seconds_per_step"] > 0
    assert 0 < pretraining["masked_per_step"] < pretraining["batch"] * pretraining["tokens"]
    assert result["agreement"]["random_windows"]["max_abs_dp"] < 0.05
    assert result["flex_parity"]["float32"] < 1e-4
    table = (tmp_path / "gpu-check.md").read_text()
    assert "## Training (Trainer.step)" in table and "torch " + torch.__version__ in table
    assert "## Pretraining (Pretrainer.train_step, masked LM)" in table


def test_the_script_refuses_to_run_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    done = subprocess.run(["bash", str(SCRIPT), "--out", str(tmp_path)], env={**os.environ, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--cpu-smoke" in done.stderr


def _h100_class():
    if not torch.cuda.is_available():
        return False
    return any(k in torch.cuda.get_device_name() for k in ("H100", "H200", "B200", "GH200"))


@pytest.mark.gpu
@pytest.mark.skipif(not _h100_class(), reason="needs an H100-class CUDA card")
@pytest.mark.parametrize("path", ["sdpa", "compile"])
def test_training_bf16_at_232_tokens_meets_the_target(path, tmp_path):
    gc = gpu_check()
    plan = gc.GPU_PLAN
    adapter = gc.TokenAdapter(gc.tokenizer_path(tmp_path, smoke=False), plan.tokens)
    config = plan.config(adapter.tokenizer.get_vocab_size())
    trainer, inputs, y = gc.make_trainer(gc.build_model(config, path, "cuda"), adapter, 256, plan.tokens, "cuda")
    seconds = gc.time_trainer_step(trainer, inputs, y, "cuda", steps=10, warmup=3)
    assert 256 / seconds >= gc.TARGET_TRAIN_SEQ_S


@pytest.mark.gpu
@pytest.mark.skipif(not _h100_class(), reason="needs an H100-class CUDA card")
def test_scoring_with_rc_averaging_meets_the_target(tmp_path):
    gc = gpu_check()
    plan = gc.GPU_PLAN
    tokenizer = gc.tokenizer_path(tmp_path, smoke=False)
    adapter = gc.TokenAdapter(tokenizer, plan.tokens)
    scorer = gc.TorchScorer(gc.build_model(plan.config(adapter.tokenizer.get_vocab_size()), "sdpa", "cuda"), adapter,
                            "cuda", "auto")
    rate = gc.predictor_rate(scorer, gc.random_windows(plan.windows, plan.window_bp, 2), plan.score_batch, True, "cuda")
    assert rate >= gc.TARGET_SCORE_SEQ_S
