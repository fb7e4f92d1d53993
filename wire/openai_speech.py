"""The body of POST /v1/audio/speech: OpenAI's fields and the studio's extensions to them. The studio's speech
API (openai_api/) reads it; the OpenAI-compatible backend (backends/openai_compatible.py) sends it, using
only the extensions the far server lists in GET /v1/models.

Extensions: a voice to clone (`reference_audio` as base64, `reference_text`), `seed` and the sampling
options, and a dialogue (`input` is then the script): `speakers`, a name -> that speaker's voice
(SpeechSpeaker), `pause_s` and `voice_layout`. Each is checked by the shared SynthesisRequest, like at
every other door.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inference.contract.errors import InvalidRequest
from inference.contract.formats import FORMATS, MAX_SPEED, MIN_SPEED
from inference.contract.request import SamplingOptions, _refuse_boolean, describe_validation_error

from .objects import read_speakers

DIALOGUE_EXTENSIONS = ("speakers", "pause_s", "voice_layout")
EXTENSIONS = ("reference_audio", "reference_text", "seed", *SamplingOptions.model_fields, *DIALOGUE_EXTENSIONS)


class SpeechSpeaker(BaseModel):
    """One dialogue speaker's voice: a voice the server names (`voice`, as in the body), a clip to clone
    (`reference_audio` as base64, with `reference_text`), words describing a voice, or none (smart voice)."""

    model_config = ConfigDict(extra="forbid")

    voice: str | None = None
    reference_audio: str | None = None
    reference_text: str | None = None
    description: str | None = None

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, value: Any) -> Any:
        return voice_id(value)


def voice_id(value: Any) -> Any:
    """OpenAI's custom-voice form {"id": "..."} names the same voices as a plain name."""
    if isinstance(value, dict):
        if set(value) != {"id"} or not isinstance(value["id"], str):
            raise ValueError('must be a voice name or {"id": "<voice name>"}')
        return value["id"]
    return value


_DEFAULTED = ("response_format", "speed", "stream_format")


class SpeechBody(BaseModel):
    """The request body of POST /v1/audio/speech. Unknown fields are refused."""

    model_config = ConfigDict(extra="allow")  # extras are checked against EXTENSIONS in `read`

    model: str | None = None
    input: str
    voice: str | None = None
    instructions: str | None = None
    response_format: Literal[FORMATS] = "mp3"  # type: ignore[valid-type]
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: Literal["audio", "sse"] = "audio"
    reference_audio: str | None = None
    reference_text: str | None = None
    speakers: dict[str, SpeechSpeaker] | None = None

    @field_validator("speed", mode="before")
    @classmethod
    def _speed_is_no_boolean(cls, value: Any) -> Any:
        return _refuse_boolean(value)

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, value: Any) -> Any:
        return voice_id(value)

    @field_validator("speakers", mode="before")
    @classmethod
    def _speakers(cls, value: Any) -> Any:
        return read_speakers(value, SpeechSpeaker)

    @classmethod
    def read(cls, payload: Any) -> SpeechBody:
        if not isinstance(payload, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        unknown = sorted(set(payload) - set(cls.model_fields) - set(EXTENSIONS))
        if unknown:
            allowed = ", ".join(dict.fromkeys([*cls.model_fields, *EXTENSIONS]))
            raise InvalidRequest(f"Invalid request: unknown field '{unknown[0]}' (allowed: {allowed}).")
        # a null option with a default means that default, as null does for every other option
        given = {k: v for k, v in payload.items() if v is not None or k not in _DEFAULTED}
        try:
            return cls(**given)
        except ValidationError as err:
            raise InvalidRequest(describe_validation_error(err)) from None

    @property
    def voice_name(self) -> str:
        return (self.voice or "").strip()

    def to_json(self) -> dict:
        """The body as sent: only the fields that were given."""
        return self.model_dump(exclude_unset=True)
