#!/usr/bin/env bash
# GPU benchmark of batched generation on the full-size model with random weights (see bench/gpu.py).
#   bash bench/gpu.sh             on any machine with an NVIDIA GPU: installs what is missing, then runs
#                                 (under 8 minutes on an H100/H200); the table goes to stdout and JSON
#   bash bench/gpu.sh --dry-run   the same run on a scaled-down model on CPU (what the tests run)
# Extra arguments go to bench/gpu.py (--batches, --tokens, --modes, --precisions, --json).
# Then the LoRA line (bench/train.py): training step time and peak memory, full size, bf16, r=16, checkpointing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
# The README's install, only where it has not been done (a bare GPU machine).
if ! "$python" -c "import transformers, pydantic, av, soundfile" 2>/dev/null; then
  "$python" -m pip install -q -r requirements.txt
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
if [ "${1:-}" != "--dry-run" ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
out=${OUT:-.}
"$python" bench/gpu.py --json "$out/gpu_bench.json" "$@" 2>&1 | tee "$out/gpu_bench.log"
# LoRA training: seconds per step and peak GPU memory (full size, bf16, r=16 on q/k/v/o, checkpointing, 10 s clips)
if [ "${1:-}" = "--dry-run" ]; then
  "$python" bench/train.py --steps 3 --json "$out/train_bench.json" 2>&1 | tee "$out/train_bench.log"
else
  "$python" bench/train.py --full-size --json "$out/train_bench.json" 2>&1 | tee "$out/train_bench.log"
fi
