"""Asking for CUDA where it cannot be used ends the start at once, with a sentence naming what the host needs."""

import os
import subprocess
import sys

import pytest
import torch

from inference.contract.errors import ModelLoadError
from inference.model import loading
from inference.model.loading import cuda_missing, pick_device
from tests.conftest import ROOT

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a usable CUDA GPU")


def test_the_sentence_names_the_cuda_version_and_the_driver_it_needs(monkeypatch):
    words = cuda_missing("13.0")
    assert "this torch build uses CUDA 13.0" in words and "an NVIDIA driver that supports CUDA 13.0" in words
    assert "version 580 or newer" in words and "nvidia-smi" in words and "--device cpu" in words
    assert "version 525 or newer" in cuda_missing("12.8")
    monkeypatch.setattr(loading.torch.version, "cuda", None)
    assert "CPU-only build" in cuda_missing()


@no_gpu
def test_cuda_asked_for_on_a_machine_without_it_is_refused_with_that_sentence():
    with pytest.raises(ModelLoadError) as refused:
        pick_device("cuda")
    assert str(refused.value) == cuda_missing()
    assert pick_device("auto").type in ("cpu", "mps")  # auto still falls back quietly outside the image


@pytest.mark.slow
@no_gpu
def test_the_studio_exits_3_with_the_driver_sentence_as_the_image_would():
    """The image sets HVS_DEVICE=cuda: on a host whose driver is too old the pod stops at once (exit 3) and
    says why, instead of loading the 3B model in fp32 on the CPU."""
    env = {**os.environ, "HVS_DEVICE": "cuda", "HVS_MODEL": "tiny-random"}
    run = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 3, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {cuda_missing()}"] and "Traceback" not in run.stderr
