"""What the RunPod worker answers: serverless/handler.py builds these, backends/runpod.py reads them.

A job's outputs are a list (streamed with /stream, gathered by /runsync): a streamed take's chunks
(ChunkOutput), then one final item: the take (ResultOutput), the rendered prompt (PromptOutput), the
worker's health (HealthOutput), a watermark check (DetectOutput), or what went wrong (ErrorOutput).
Readers ignore fields they do not know, so a newer worker can add some.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inference.contract.errors import InvalidRequest, StudioError
from inference.contract.request import SAMPLE_RATE, describe_validation_error
from inference.contract.result import Segment

from .runpod_job import OUTPUT_FORMATS

ERROR_TYPES = ("invalid_request", "studio_error", "internal")


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def read(cls, item: Any):
        """One output item as this model; StudioError when the worker answered something else."""
        try:
            return cls.model_validate(item)
        except ValidationError as err:
            detail = describe_validation_error(err).removeprefix("Invalid request: ")
            raise StudioError(f"The RunPod worker answered in an unexpected shape: {detail}") from None

    def to_json(self) -> dict:
        """The item as JSON; optional fields that are not set are left out."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class ErrorOutput(_Output):
    """A job that failed: a sentence for a person, and whose fault it was."""

    error: str
    error_type: Literal[ERROR_TYPES] = "studio_error"  # type: ignore[valid-type]

    def raise_error(self) -> None:
        raise (InvalidRequest if self.error_type == "invalid_request" else StudioError)(self.error)


class ChunkOutput(_Output):
    """A piece of a streamed take, as a WAV file of its own."""

    type: Literal["chunk"] = "chunk"
    index: int = 0
    start_s: float = 0.0
    duration_s: float = 0.0
    sample_rate: int = SAMPLE_RATE
    format: Literal["wav"] = "wav"
    audio_base64: str
    part: int = 1  # "part 2 of 5": the dialogue turn or long-text chunk this audio belongs to
    parts: int = 1


class TimingsOutput(_Output):
    load_s: float = 0.0
    reference_s: float = 0.0
    generate_s: float = 0.0
    decode_s: float = 0.0
    audio_s: float = 0.0
    total_s: float = 0.0
    real_time_factor: float = 0.0


class ResultOutput(_Output):
    """The finished take: its audio inline (base64) or in S3 (a presigned URL), with what describes it."""

    type: Literal["result"] = "result"
    storage: Literal["base64", "s3"] = "base64"
    audio_base64: str | None = None
    audio_url: str | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    url_expires_in_s: float | None = None
    audio_in_chunks: bool | None = None  # true: a long streamed take's audio is only in its chunks
    format: Literal["wav", "mp3"] = "wav"
    content_type: str = OUTPUT_FORMATS["wav"]
    bytes: int = 0
    sample_rate: int = SAMPLE_RATE
    duration_s: float = 0.0
    seed: int = 0
    model: str = "?"
    timings: TimingsOutput = Field(default_factory=TimingsOutput)
    warnings: list[str] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)  # timed text: dialogue turns, long-text chunks
    subtitles: dict[str, str] = Field(default_factory=dict)  # "vtt" and "srt"
    take_check: dict[str, Any] | None = None  # the scores, when the take was checked
    recipe: dict[str, Any] | None = None  # the take's recipe (inference/contract/recipe.py), to edit it


class PromptOutput(_Output):
    """A prompt_only job's answer: the prompt the model would be given."""

    type: Literal["prompt"] = "prompt"
    prompt: str = ""
    audio_frames: int = 0
    warnings: list[str] = Field(default_factory=list)


class HealthOutput(_Output):
    """A health job's answer: whether the worker can serve, and what with."""

    type: Literal["health"] = "health"
    status: str = "ok"  # "ok", "error" (see load_error) or "draining" (SIGTERM: no new jobs)
    load_error: str | None = None
    engine: dict[str, Any] = Field(default_factory=dict)  # the engine's status(): model, device, dtype, ...
    storage: dict[str, Any] = Field(default_factory=dict)
    voices: list[str] = Field(default_factory=list)
    output_formats: list[str] = Field(default_factory=lambda: list(OUTPUT_FORMATS))
    runpod: str = ""  # the runpod SDK's version

    def to_json(self) -> dict:
        return self.model_dump()  # load_error stays, as null, when there is none


class DetectOutput(_Output):
    """A detect job's answer: is the watermark in the clip?"""

    type: Literal["detect"] = "detect"
    marked: bool
    confidence: float
