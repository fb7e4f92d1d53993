"""OpenAI's speech request, read into the studio's one SynthesisRequest, and the voices it can name.

`voice` (a name, or OpenAI's object form {"id": "<name>"}) goes through the studio's one voice rule
(studio/voices.py): smart, a preset, a described voice, one of OpenAI's names (alloy, ...), or words.
`model` may be any name (tts-1, tts-1-hd, gpt-4o-mini-tts, this server's id): the studio has one model and
it speaks them all; the name is echoed in X-Model. `instructions` become the scene. The cloning extensions
(reference_audio as base64, reference_text, seed and the sampling options) are checked by the shared
request validation.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inference.audio.formats import FORMATS, MAX_SPEED, MIN_SPEED
from inference.contract.errors import InvalidRequest
from inference.contract.request import (
    MAX_SEED,
    SamplingOptions,
    SynthesisRequest,
    _refuse_boolean,
    describe_validation_error,
)
from studio.service import Studio
from studio.voices import VoiceSpec

# Extensions to OpenAI's request; each is checked by SynthesisRequest like at every other front door.
EXTENSIONS = ("reference_audio", "reference_text", "seed", *SamplingOptions.model_fields)


class SpeechBody(BaseModel):
    """The request body of POST /v1/audio/speech. Unknown fields are refused."""

    model_config = ConfigDict(extra="allow")  # extras are checked against EXTENSIONS below

    model: str | None = None
    input: str
    voice: str | None = None
    instructions: str | None = None
    response_format: Literal[FORMATS] = "mp3"  # type: ignore[valid-type]
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: Literal["audio", "sse"] = "audio"
    reference_audio: str | None = None
    reference_text: str | None = None

    @field_validator("speed", mode="before")
    @classmethod
    def _speed_is_no_boolean(cls, value: Any) -> Any:
        return _refuse_boolean(value)

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, value: Any) -> Any:
        """OpenAI's custom-voice form {"id": "..."} names the same voices."""
        if isinstance(value, dict):
            if set(value) != {"id"} or not isinstance(value["id"], str):
                raise ValueError('must be a voice name or {"id": "<voice name>"}')
            return value["id"]
        return value

    @classmethod
    def read(cls, payload: Any) -> SpeechBody:
        if not isinstance(payload, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        unknown = sorted(set(payload) - set(cls.model_fields) - set(EXTENSIONS))
        if unknown:
            allowed = ", ".join([*cls.model_fields, *EXTENSIONS[2:]])
            raise InvalidRequest(f"Invalid request: unknown field '{unknown[0]}' (allowed: {allowed}).")
        try:
            return cls(**payload)
        except ValidationError as err:
            raise InvalidRequest(describe_validation_error(err)) from None


def synthesis_request(body: SpeechBody, studio: Studio) -> SynthesisRequest:
    """The take this body asks for. A seed is drawn here when none is given, so it can go in a header
    before the audio starts."""
    clip = _base64_audio(body.reference_audio) if body.reference_audio is not None else None
    voice = studio.voice(VoiceSpec(name=body.voice, clip=clip, clip_text=body.reference_text))
    extras = {name: value for name, value in (body.model_extra or {}).items()}
    seed = extras.pop("seed", None)
    request = studio.request(voice, body.input, studio.scene(voice, None, None, body.instructions), seed, **extras)
    if request.seed is None:
        request = request.model_copy(update={"seed": secrets.randbelow(MAX_SEED + 1)})
    return request


def voice_list(studio: Studio) -> list[dict]:
    """The voices a request can name, in the shape of OpenAI's voice objects; OpenAI's names say what they
    map to (`maps_to`)."""
    voices = []
    for entry in studio.resolver.entries():
        voice = {"id": entry.name, "object": "audio.voice", "created_at": 0, "name": entry.label,
                 "type": "audio_sample" if entry.voice.reference_audio is not None else "prompt"}
        if voice["type"] == "prompt":
            voice["prompt"] = entry.voice.description
        if entry.maps_to is not None:
            voice["maps_to"] = entry.maps_to
        voices.append(voice)
    return voices


def _base64_audio(text: str) -> bytes:
    """base64 of a clip, optionally as a data: URL."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("reference_audio must be the clip's bytes in base64 (or a data: URL).") from None
