#!/usr/bin/env bash
# Full-size GPU benchmark, prepared for the device machine (one command, ~5 minutes on an H200).
# The device has torch 2.11 but an older transformers and no pydantic/av: carry them as wheels.
# Once, here:  echo /.whl/ >> .git/info/exclude && bench/gpu.sh --fetch-wheels
# Then on the device (carry .whl):  bash bench/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fetch-wheels" ]; then
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl transformers==5.24.0 huggingface_hub==1.* pydantic==2.* pydantic-core annotated-types \
    typing-inspection av==18.* tokenizers==0.22.*
  exit 0
fi
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 bench/engine_bench.py --full-size "$@" 2>&1 | tee "${OUT:-/tmp}/gpu_bench.log"
