"""How the engine batches and threads, checked: the batch size, threads per op on CPU, the batch window.
The roots read the settings (settings.py); these checks also guard callers that build an Engine directly."""

from __future__ import annotations

import torch

from inference.contract.errors import BadSetting

MAX_BATCH = 64
MAX_BATCH_WINDOW_MS = 1000


def batch_size(value: int | str | None, device: torch.device) -> int:
    """--max-batch / HVS_MAX_BATCH, a whole number from 1 to MAX_BATCH. Unset: 8 on a GPU (a 3B model's
    decode step is bound by memory bandwidth, so 8 rows cost little more than 1) and 4 on CPU."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return 8 if device.type == "cuda" else 4
    if not text.isdecimal() or not 1 <= int(text) <= MAX_BATCH:
        raise BadSetting(f"The batch size (--max-batch / HVS_MAX_BATCH) must be a whole number from 1 to "
                         f"{MAX_BATCH}, not {text[:20]!r}.")
    return int(text)


def threads_per_op(value: int | str | None, device: torch.device) -> int | None:
    """HVS_CPU_THREADS: threads per tensor op on CPU (None on a GPU: left as it is). Default 1: the engine
    computes in several threads at once (the batcher's steps, visitors' audio decodes beside them), and
    OpenMP teams in several threads oversubscribe the cores. Measured on 2 cores (tiny-random): an 8-row
    decode step took 7.9 ms with 2 threads per op and 3.3 ms with 1; an audio decode 0.107 s and 0.076 s.
    A single take of the full model on a many-core CPU is faster with more (its matmuls are big enough)."""
    if device.type != "cpu":
        return None
    text = str(value).strip() if value is not None else "1"
    if not text.isdecimal() or not 1 <= int(text) <= 1024:
        raise BadSetting(f"HVS_CPU_THREADS must be a whole number from 1 to 1024, not {text[:20]!r}.")
    return int(text)


def batch_window(ms: float) -> float:
    """--batch-window-ms / HVS_BATCH_WINDOW_MS in seconds: the batcher sleeps this long when a take arrives
    at an idle model (a negative or NaN sleep killed its thread, a huge one stalled every take)."""
    if not 0 <= ms <= MAX_BATCH_WINDOW_MS:  # False for NaN too
        raise BadSetting(f"The batch window (--batch-window-ms / HVS_BATCH_WINDOW_MS) must be from 0 to "
                         f"{MAX_BATCH_WINDOW_MS} ms, not {ms}.")
    return ms / 1000
