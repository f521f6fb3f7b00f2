#!/usr/bin/env bash
# The GPU check of issue 17, in one command (under 8 minutes on one GPU):
#
#   bash benchmarks/gpu-check.sh                      # writes gpu-check-out/gpu-check.{json,md}
#   bash benchmarks/gpu-check.sh --out /tmp/gc        # elsewhere
#   bash benchmarks/gpu-check.sh --cpu-smoke          # every step at tiny shapes on the CPU (< 2 minutes)
#
# It installs nothing: it runs the project from src/ with the Python it finds ($PYTHON, else
# .venv/bin/python, else python3), which must already have a CUDA build of torch and the
# project's dependencies. What it measures (benchmarks/gpu_check.py, its docstring): DNABERT-2
# fine-tuning steps (Trainer.step) and their overhead, one masked-LM pretraining step at the 117M
# shape (Pretrainer.train_step, as dnabert2-pretrain runs it), scoring throughput and overhead,
# bf16-vs-fp32 agreement and flex-vs-sdpa parity.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=true

missing=$("$PY" - <<'PY'
import importlib.util
need = ["torch", "numpy", "scipy", "tokenizers", "safetensors", "click"]
print(" ".join(n for n in need if importlib.util.find_spec(n) is None))
PY
)
if [ -n "$missing" ]; then
  echo "gpu-check: $PY lacks: $missing (install the project's dependencies first; this script installs nothing)" >&2
  exit 3
fi

smoke=no
for arg in "$@"; do [ "$arg" = "--cpu-smoke" ] && smoke=yes; done
if [ "$smoke" = no ]; then
  "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' || {
    echo "gpu-check: torch $("$PY" -c 'import torch; print(torch.__version__)') sees no CUDA device" \
         "(use --cpu-smoke to check the script on a CPU)" >&2
    exit 2
  }
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

exec timeout "${GPU_CHECK_TIMEOUT:-470}" "$PY" benchmarks/gpu_check.py "$@"
