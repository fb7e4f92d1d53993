"""Hugging Face ZeroGPU: on such a Space the calls that use the GPU must be wrapped by `spaces.GPU`,
which attaches a GPU for the call's duration. Everywhere else `spaces.GPU` returns the function
unchanged, and without the `spaces` package this is a no-op too. Whether this is ZeroGPU hardware is
the setting SPACES_ZERO_GPU (settings.py), which the roots pass on (no warm-up, no cancel event there)."""

from __future__ import annotations

import contextlib

GPU_SECONDS = 120  # the longest take we expect to need on a shared GPU slice


def import_spaces() -> None:
    """ZeroGPU needs `spaces` imported before torch initialises CUDA; call this before building the engine."""
    with contextlib.suppress(ImportError):
        import spaces  # noqa: F401


def attach_gpu_on_demand(engine):
    """Wrap the engine's GPU entry points (`synthesize`, `stream`, and a recipe's `render` and `revise_part`)
    with spaces.GPU when available."""
    try:
        import spaces
    except ImportError:
        return engine
    engine.synthesize = spaces.GPU(engine.synthesize, duration=GPU_SECONDS)
    engine.stream = spaces.GPU(engine.stream, duration=GPU_SECONDS)
    engine.render = spaces.GPU(engine.render, duration=GPU_SECONDS)
    engine.revise_part = spaces.GPU(engine.revise_part, duration=GPU_SECONDS)
    return engine
