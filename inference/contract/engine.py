"""The engine interface every backend has (the local model, a RunPod endpoint, an OpenAI-compatible server),
and the identity of the test model. The service and the doors hold an `EngineLike`, never a class."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from inference.contract.request import SynthesisRequest
from inference.contract.result import StreamChunk, SynthesisResult

TINY_MODEL_ID = "tiny-random"  # the test model, built offline with random weights (inference/model/tiny_model.py)
NOISE_WARNING = "model 'tiny-random' has random weights: its output is noise, not speech"


class EngineLike(Protocol):
    """What the studio needs from an engine (local model or remote endpoint)."""

    model_id: str
    is_noise: bool

    def load(self) -> EngineLike: ...
    def warm_up(self) -> None: ...
    def status(self) -> dict: ...
    def synthesize(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> SynthesisResult: ...
    def stream(self, request: SynthesisRequest, *, cancel: threading.Event | None = None
               ) -> Iterator[StreamChunk]: ...
    def render_prompt(self, request: SynthesisRequest): ...
