"""Higgs Voice Studio's engine: one typed request in, audio out. Knows torch, not Gradio or HTTP.

Names are imported lazily so that light modules (schema, errors, voices) can be used without
importing torch, e.g. by the UI layer.
"""

from importlib import import_module

_EXPORTS = {
    "Engine": "engine", "StreamChunk": "engine",
    "Cancelled": "errors", "InvalidAudio": "errors", "InvalidRequest": "errors", "ModelLoadError": "errors", "StudioError": "errors",
    "DEFAULT_MODEL_ID": "loading",
    "SAMPLE_RATE": "schema", "SamplingOptions": "schema", "SynthesisRequest": "schema",
    "SynthesisResult": "schema", "Timings": "schema",
    "TINY_MODEL_ID": "tiny_model",
    "detect": "watermark",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'inference' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
