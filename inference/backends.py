"""Choosing what answers requests: the local model, or a remote RunPod serverless endpoint.

Both have the same interface (load, warm_up, status, synthesize, stream), so the studio does not care.
"""

from __future__ import annotations

from .errors import ModelLoadError


def build_engine(backend: str = "local", model_id: str | None = None, device: str = "auto", dtype: str = "auto",
                 watermark: bool | None = None):
    """`local` runs the model in this process; `runpod:<endpoint-id>` sends requests to a RunPod endpoint.
    `watermark` (None: HVS_WATERMARK decides) applies to a local model; a remote worker marks its own takes."""
    from .loading import DEFAULT_MODEL_ID

    if backend == "local":
        from .engine import Engine  # imports torch; a remote-only front door never needs it

        return Engine(model_id or DEFAULT_MODEL_ID, device=device, dtype=dtype, watermark=watermark)
    if backend.startswith("runpod:"):
        # The worker's HVS_MODEL decides the model; model_id/device/dtype only apply to a local model.
        from .remote import RemoteEngine

        return RemoteEngine(backend.removeprefix("runpod:"))
    raise ModelLoadError(f"Unknown backend {backend!r}: use 'local' or 'runpod:<endpoint-id>'.")
