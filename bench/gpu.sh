#!/usr/bin/env bash
# Full-size GPU benchmark on any NVIDIA machine: the released model's dimensions, random weights, no download.
# Install as the README says (pip install -r requirements.txt), then run:  bash bench/gpu.sh
# The log goes to $OUT/gpu_bench.log (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 bench/engine_bench.py --full-size "$@" 2>&1 | tee "${OUT:-/tmp}/gpu_bench.log"
