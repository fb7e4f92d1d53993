"""The GPU fast path's switches, checked where they can run (CPU): compiled decode step, quantization
and batch-size settings with clear errors, and the GPU benchmark's dry run."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from inference import Engine, ModelLoadError, SynthesisRequest

ROOT = Path(__file__).resolve().parent.parent


def request(**fields):
    return SynthesisRequest.parse(**{"text": "A compiled decode step.", "max_new_tokens": 30, **fields})


def test_a_compiled_decode_step_gives_the_same_takes(engine):
    """torch.compile's graph capture of the decode step (aot_eager backend: no C++ toolchain needed on CPU)
    gives the same waveform as eager decoding, for a sampled and a greedy take."""
    compiled = Engine("tiny-random", compile="aot_eager").load()
    compiled.warm_up()
    assert compiled.status()["compiled"] == "aot_eager"
    for fields in ({"seed": 5}, {"temperature": 0}):
        assert np.array_equal(compiled.synthesize(request(**fields)).waveform,
                              engine.synthesize(request(**fields)).waveform)


def test_a_compiler_that_fails_falls_back_to_eager_decoding(caplog):
    from torch._dynamo import register_backend

    @register_backend
    def hvs_broken_toolchain(graph, example_inputs):
        raise RuntimeError("C++ compile error: no compiler here")

    broken = Engine("tiny-random", compile="hvs_broken_toolchain").load()
    broken.warm_up()  # does not raise: the studio still starts
    assert broken.status()["warmed"] and broken.status()["compiled"] is False
    assert "compiling the decode step failed" in caplog.text
    assert broken.synthesize(request(seed=1)).duration_s > 0


def test_quantization_and_batch_settings_fail_clearly():
    with pytest.raises(ModelLoadError, match="needs a CUDA GPU"):
        Engine("tiny-random", device="cpu", quantize="8bit")
    with pytest.raises(ModelLoadError, match="use 8bit or 4bit"):
        Engine("tiny-random", quantize="3bit")
    for bad in (0, 65, "eight", "-1", "²", "4.0"):  # "²" is a digit to str.isdigit, not to int()
        with pytest.raises(ModelLoadError, match="whole number from 1 to 64"):
            Engine("tiny-random", max_batch=bad)
    assert Engine("tiny-random", max_batch="6").max_batch == 6
    for bad in (-5, float("nan"), float("inf"), 1_001):  # the batcher slept that long (or raised) before each batch
        with pytest.raises(ModelLoadError, match="batch window"):
            Engine("tiny-random", batch_window_ms=bad)
    assert Engine("tiny-random", batch_window_ms=0).batch_window_s == 0


def test_the_batch_size_comes_from_the_settings():
    from settings import Settings

    assert Engine("tiny-random", max_batch=Settings.from_env({"HVS_MAX_BATCH": "3"}).max_batch).max_batch == 3
    assert Engine("tiny-random").max_batch == 4  # unset: 4 on CPU, whatever the environment says
    with pytest.raises(ModelLoadError, match="HVS_MAX_BATCH"):
        Engine("tiny-random", max_batch="lots")


def test_cpu_threads_per_op_come_from_the_settings(engine):
    """One thread per op on CPU by default (visitors' work runs side by side instead), and then the engine's
    audio decodes do not queue behind the batch's steps."""
    assert engine.status()["cpu_threads"] == 1 and torch.get_num_threads() == 1
    assert engine.batcher.exclusive_turns is False
    assert Engine("tiny-random", cpu_threads=2).cpu_threads == 2
    for bad in ("0", "two", "-1", "1.5", 2000):
        with pytest.raises(ModelLoadError, match="HVS_CPU_THREADS must be a whole number"):
            Engine("tiny-random", cpu_threads=bad)


def test_sdpa_attention_is_used(engine):
    """SDPA, wrapped so that batched decode steps attend row by row (inference/invariant.py)."""
    assert engine.model.config._attn_implementation == "hvs-rows-sdpa"


@pytest.mark.slow
def test_gpu_benchmark_dry_run(tmp_path):
    """bench/gpu.sh --dry-run: the whole GPU benchmark on a scaled-down model on CPU, table and JSON."""
    run = subprocess.run(["bash", "bench/gpu.sh", "--dry-run"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={**__import__("os").environ, "OUT": str(tmp_path)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "steps/s/take" in run.stdout
    table = json.loads((tmp_path / "gpu_bench.json").read_text())
    assert [row["batch"] for row in table["rows"]] == [1, 2]
    for row in table["rows"]:
        assert row["steps_per_s_per_take"] > 0 and row["steps_per_s_aggregate"] >= row["steps_per_s_per_take"]
        assert row["rtf"] > 0 and row["first_audio_s"] > 0
    assert (tmp_path / "gpu_bench.log").read_text().count("\n") >= 4
    lora = json.loads((tmp_path / "train_bench.json").read_text())  # the LoRA training line
    assert lora["steps_per_s"] > 0 and lora["rank"] == 16
    assert torch.cuda.is_available() or table["device"] == "cpu"
