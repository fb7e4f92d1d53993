"""A RunPod job's input, as backends/runpod_input.py builds it and the worker (serverless/job.py) reads it.

A take is `text`, the request's options and, for a voice to clone, one of REFERENCE_FIELDS. A dialogue is
`script` (instead of `text`) with `speakers`: a name -> that speaker's voice (SpeakerInput). The worker's own
fields (output, s3_prefix, stream, prompt_only, check) say what to do with the take; the request's fields
travel as they came and are validated by `SynthesisRequest.parse`, like at every other door. Besides
takes, a job is {"health": true} (HealthJob), {"detect": <audio>} (DetectJob) or {"revise": {...}} (ReviseJob:
a take edited from its recipe).

Every check here raises InvalidRequest with a sentence naming the field, which pydantic passes through.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from inference.contract.errors import InvalidRequest
from inference.contract.request import SamplingOptions

from .objects import kind_of, read_speakers

OUTPUT_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}
REFERENCE_FIELDS = ("reference_audio_base64", "reference_audio_url", "voice")
# The fields handed to SynthesisRequest.parse (a dialogue's `script` becomes its text).
REQUEST_FIELDS = ("text", "reference_text", "scene", "seed", "candidates", "pause_s", "voice_layout", "parts",
                  *SamplingOptions.model_fields)
_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}$")


class _Voice(BaseModel):
    """A voice to clone, given one of three ways: the clip as base64 (or a data: URL), an http(s) URL the
    worker fetches, or the name of one of the worker's preset voices."""

    model_config = ConfigDict(extra="forbid")

    reference_audio_base64: str | None = None
    reference_audio_url: str | None = None
    voice: str | None = None
    reference_text: Any = None  # the clip's transcript

    @field_validator(*REFERENCE_FIELDS, mode="before")
    @classmethod
    def _non_empty_string(cls, value: Any, info) -> Any:
        if info.field_name == "voice" and isinstance(value, str) and not value.strip():
            return None  # the smart voice, as an empty voice is at every other door
        if value is not None and (not isinstance(value, str) or not value.strip()):
            kind = "an empty string" if isinstance(value, str) else kind_of(value)
            raise InvalidRequest(f"{info.field_name} must be a non-empty string (got {kind}).")
        return value

    @model_validator(mode="after")
    def _one_reference(self) -> _Voice:
        if len(given := self.reference_given) > 1:
            raise InvalidRequest(f"Give at most one reference voice: {' and '.join(given)} were both set.")
        return self

    @property
    def reference_given(self) -> list[str]:
        """Which of REFERENCE_FIELDS are set (at most one)."""
        return [name for name in REFERENCE_FIELDS if getattr(self, name) is not None]


class SpeakerInput(_Voice):
    """One dialogue speaker: a voice to clone (with its transcript), or a voice described in words
    (`description`), or neither (the model picks one)."""

    description: Any = None


class TakeInput(_Voice):
    """A take, or a dialogue (`script` + `speakers`). Fields left out are left out of `to_json` too."""

    # What the worker does with the take; the engine never sees these.
    output: Literal["wav", "mp3"] = "wav"
    s3_prefix: str = ""  # where in the worker's S3 bucket the take goes
    stream: bool = False  # chunks while generating
    prompt_only: bool = False  # return the rendered model prompt, generate nothing
    check: bool = False  # score the take (words, voice); always on with candidates > 1
    # A dialogue.
    script: Any = None
    speakers: dict[str, SpeakerInput] | None = None
    # The request's own fields, validated by SynthesisRequest.parse.
    text: Any = None
    scene: Any = None
    seed: Any = None
    candidates: Any = None
    pause_s: Any = None
    voice_layout: Any = None
    parts: Any = None  # "sentence": every sentence a part of its own, to revise one at a time
    temperature: Any = None
    top_p: Any = None
    top_k: Any = None
    max_new_tokens: Any = None
    ras_win_len: Any = None
    ras_max_repeats: Any = None

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, payload: Any) -> Any:
        if not isinstance(payload, dict):
            raise InvalidRequest(
                f"The job input must be a JSON object with at least a 'text' field (got {kind_of(payload)}).")
        unknown = sorted(set(payload) - set(cls.model_fields))
        if unknown:
            raise InvalidRequest(
                f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} in the job "
                f"input (allowed: {', '.join(sorted(cls.model_fields))}).")
        return payload

    @field_validator("output", mode="before")
    @classmethod
    def _output(cls, value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in OUTPUT_FORMATS:
            raise InvalidRequest(f"output must be one of {', '.join(OUTPUT_FORMATS)} (got {value!r}).")
        return value.lower()

    @field_validator("stream", "prompt_only", "check", mode="before")
    @classmethod
    def _flag(cls, value: Any, info) -> bool:
        if not isinstance(value, bool):
            raise InvalidRequest(f"{info.field_name} must be true or false (got {value!r}).")
        return value

    @field_validator("s3_prefix", mode="before")
    @classmethod
    def _s3_prefix(cls, value: Any) -> str:
        prefix = value or ""
        if not isinstance(prefix, str) or (prefix and (
            not _S3_PREFIX.match(prefix) or prefix.startswith("/") or ".." in prefix.split("/")
        )):
            raise InvalidRequest(
                "s3_prefix may only hold letters, digits and ! _ . * ' ( ) / - (at most 200, no leading '/', "
                f"no '..' folder); got {value!r}.")
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    @field_validator("speakers", mode="before")
    @classmethod
    def _speakers(cls, value: Any) -> Any:
        return read_speakers(value, SpeakerInput)

    @property
    def is_dialogue(self) -> bool:
        return bool({"script", "speakers"} & self.model_fields_set)

    @property
    def content_type(self) -> str:
        return OUTPUT_FORMATS[self.output]

    def request_fields(self) -> dict[str, Any]:
        """The fields for SynthesisRequest.parse that the job gave. A null option means its default, as at every
        door (left out here: the request's own check calls a null candidates, parts, pause_s or voice_layout the
        wrong type); a null text stays, for that check to name it."""
        return {name: getattr(self, name) for name in REQUEST_FIELDS
                if name in self.model_fields_set and (getattr(self, name) is not None or name == "text")}

    def to_json(self) -> dict:
        return self.model_dump(exclude_unset=True)


class HealthJob(BaseModel):
    """{"health": true}: wakes a worker (a cold start) and asks what it serves (a HealthOutput)."""

    model_config = ConfigDict(extra="forbid")

    health: Literal[True]

    @model_validator(mode="before")
    @classmethod
    def _exactly(cls, payload: Any) -> Any:
        if not isinstance(payload, dict) or payload.get("health") is not True or len(payload) != 1:
            raise InvalidRequest('A health job is exactly {"health": true}, with no other fields.')
        return payload


class DetectJob(BaseModel):
    """{"detect": <an audio file as base64, a data: URL, or an http(s) URL>}: is the watermark in it?"""

    model_config = ConfigDict(extra="forbid")

    detect: str

    @model_validator(mode="before")
    @classmethod
    def _exactly(cls, payload: Any) -> Any:
        if not isinstance(payload, dict) or set(payload) != {"detect"}:
            got = ", ".join(sorted(payload)) if isinstance(payload, dict) else kind_of(payload)
            raise InvalidRequest('A detect job is exactly {"detect": "<base64 or URL of an audio file>"}, '
                                 f"with no other fields (got {got}).")
        value = payload["detect"]
        if not isinstance(value, str) or not value.strip():
            got = "an empty string" if isinstance(value, str) else kind_of(value)
            raise InvalidRequest(f"detect must be the audio as base64 or an http(s) URL (got {got}).")
        return {"detect": value.strip()}


MAX_REVISE_CLIPS = 4


class ReviseInput(BaseModel):
    """A take's recipe and one edit of it (studio/revise.py: Edit). The service checks the recipe and the edit;
    here only the shape: `clips` are the take's reference clips again, each base64 or an http(s) URL."""

    model_config = ConfigDict(extra="forbid")

    recipe: Any
    part: Any = None
    action: Any = None
    text: Any = None
    seed: Any = None
    variant: Any = None
    pause_s: Any = None
    speaker: Any = None
    clips: list[str] = []
    output: Literal["wav", "mp3"] = "wav"

    @field_validator("clips", mode="before")
    @classmethod
    def _clips(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
            raise InvalidRequest("revise.clips must be a list of clips, each base64 or an http(s) URL.")
        if len(value) > MAX_REVISE_CLIPS:
            raise InvalidRequest(f"revise.clips holds {len(value)} clips; a take has at most {MAX_REVISE_CLIPS}.")
        return value


class ReviseJob(BaseModel):
    """{"revise": {"recipe": ..., "part": 3, "seed": 9, ...}}: a take edited from its recipe (docs/editing.md)."""

    model_config = ConfigDict(extra="forbid")

    revise: ReviseInput

    @model_validator(mode="before")
    @classmethod
    def _exactly(cls, payload: Any) -> Any:
        if not isinstance(payload, dict) or set(payload) != {"revise"} or not isinstance(payload["revise"], dict):
            raise InvalidRequest('A revise job is exactly {"revise": {"recipe": ..., "part": ..., ...}}.')
        unknown = sorted(set(payload["revise"]) - set(ReviseInput.model_fields))
        if unknown:
            raise InvalidRequest(f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in "
                                 f"revise (allowed: {', '.join(ReviseInput.model_fields)}).")
        return payload
