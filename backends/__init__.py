"""What answers a take: the local model, a RunPod serverless endpoint, or an OpenAI-compatible speech server.

Each backend has the engine's interface (load, warm_up, status, synthesize, stream, render_prompt,
model_id, is_noise), so the studio, the CLI and the worker never care which one they hold.

    local                 inference.Engine: the model in this process (needs torch)
    runpod:<id or url>    backends/runpod.py: jobs (backends/runpod_input.py) sent to a RunPod endpoint running serverless/
    openai:<base-url>     backends/openai_compatible.py: POST <base-url>/v1/audio/speech
"""

from __future__ import annotations

from inference.contract.errors import BadSetting

CHOICES = "'local', 'runpod:<endpoint-id>' or 'openai:<base-url>'"


def build_engine(backend: str = "local", model_id: str | None = None, device: str = "auto", dtype: str = "auto",
                 **options):
    """model_id/device/dtype only apply to the local model: a remote server decides its own (a remote worker
    marks its own takes). `options` go to the backend built: the local model's (max_batch, batch_window_ms,
    compile, quantize, watermark, cpu_threads, trained_dir, max_adapters) or a remote one's (api_key, timeout_s, and base_url for RunPod
    or voice for an OpenAI-compatible server); Settings.remote_options gives the latter."""
    if backend == "local":
        from inference.engine import Engine  # imports torch; a remote-only front door never needs it
        from inference.model.loading import DEFAULT_MODEL_ID

        return Engine(model_id or DEFAULT_MODEL_ID, device=device, dtype=dtype, **options)
    if backend.startswith("runpod:"):
        from .runpod import RemoteEngine

        return RemoteEngine(backend.removeprefix("runpod:"), **options)
    if backend.startswith("openai:"):
        from .openai_compatible import OpenAISpeechEngine

        return OpenAISpeechEngine(backend.removeprefix("openai:"), **options)
    raise BadSetting(f"Unknown backend {backend!r}: use {CHOICES}.")
