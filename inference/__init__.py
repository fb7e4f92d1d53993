"""Higgs Voice Studio's engine: one typed request in, audio out. Knows torch, not Gradio or HTTP."""

from .engine import Engine, StreamChunk
from .errors import InvalidAudio, InvalidRequest, ModelLoadError, StudioError
from .loading import DEFAULT_MODEL_ID
from .schema import SAMPLE_RATE, SamplingOptions, SynthesisRequest, SynthesisResult, Timings
from .tiny_model import TINY_MODEL_ID

__all__ = [
    "DEFAULT_MODEL_ID", "Engine", "InvalidAudio", "InvalidRequest", "ModelLoadError", "SAMPLE_RATE",
    "SamplingOptions", "StreamChunk", "StudioError", "SynthesisRequest", "SynthesisResult", "TINY_MODEL_ID",
    "Timings",
]
