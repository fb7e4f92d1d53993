"""What the engine gives back: a finished take (SynthesisResult, its timings and timed segments) and the
pieces of a take streamed while it is generated (StreamChunk)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inference.contract.recipe import Recipe
from inference.contract.request import SAMPLE_RATE


@dataclass
class Timings:
    load_s: float = 0.0
    reference_s: float = 0.0
    generate_s: float = 0.0
    decode_s: float = 0.0
    audio_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.reference_s + self.generate_s + self.decode_s

    @property
    def real_time_factor(self) -> float:
        """Seconds of compute per second of audio (below 1 is faster than real time)."""
        return self.total_s / self.audio_s if self.audio_s else float("inf")


@dataclass(frozen=True)
class Segment:
    """A timed stretch of the take: one dialogue turn (or part of a long one), or one long-text chunk."""

    start_s: float
    end_s: float
    text: str
    speaker: str | None = None


@dataclass
class SynthesisResult:
    sample_rate: int
    waveform: np.ndarray  # mono float32 in [-1, 1]
    seed: int
    timings: Timings
    warnings: list[str] = field(default_factory=list)
    model_id: str = ""
    prompt: str = ""  # the rendered prompt of the first chunk
    chunks: int = 1  # long texts and dialogues are spoken in several parts
    segments: list[Segment] = field(default_factory=list)  # timed text of the take, for subtitles
    recipe: Recipe | None = None  # the take described exactly, to render it again or edit it (local engine)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / self.sample_rate


@dataclass
class StreamChunk:
    """Audio produced while generating. The last chunk also carries the whole result."""

    waveform: np.ndarray
    sample_rate: int = SAMPLE_RATE
    result: SynthesisResult | None = None
    part: int = 1  # which part of the take this audio belongs to ("part 2 of 5", "turn 2 of 5")
    parts: int = 1
