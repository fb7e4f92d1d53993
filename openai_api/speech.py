"""OpenAI's speech request, read into the studio's one SynthesisRequest, and the voices it can name.

`voice` is a preset voice (a clip + transcript), a shipped voice description, or `smart` (the model picks
a voice that suits the text); `instructions` become the scene. The extensions (reference_audio as base64,
reference_text, seed, the sampling options; a dialogue's speakers, pause_s and voice_layout: see
wire/openai_speech.py) are checked by the shared request validation. A speaker's voice is resolved by the
same rules as the body's own.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from inference.contract.errors import InvalidRequest
from inference.contract.request import MAX_SEED, SynthesisRequest
from studio.service import Studio
from studio.voices import SMART, Voice, api_voice
from wire.openai_speech import EXTENSIONS, SpeechBody, SpeechSpeaker

__all__ = ["EXTENSIONS", "SMART_VOICE", "SpeechBody", "resolve_voice", "synthesis_request", "voice_list"]

SMART_VOICE = "smart"


def synthesis_request(body: SpeechBody, studio: Studio) -> SynthesisRequest:
    """The take this body asks for. A seed is drawn here when none is given, so it can go in a header
    before the audio starts."""
    if body.speakers is not None and body.voice_name not in ("", SMART_VOICE):
        raise InvalidRequest(f"voice {body.voice_name!r} is one voice for a single take; a dialogue gives a voice "
                             "per speaker in speakers.")
    voice = _voice(body.voice_name, body.reference_audio, body.reference_text, studio)
    extras = {name: value for name, value in (body.model_extra or {}).items()}
    seed = extras.pop("seed", None)
    if body.speakers is not None:
        extras["speakers"] = {name: _speaker(name, spec, studio) for name, spec in body.speakers.items()}
    request = studio.request(voice, body.input, studio.scene(voice, None, None, body.instructions), seed, **extras)
    if request.seed is None:
        request = request.model_copy(update={"seed": secrets.randbelow(MAX_SEED + 1)})
    return request


def _voice(name: str, reference_audio: str | None, reference_text: str | None, studio: Studio) -> Voice:
    """`voice`, and a clip to clone (base64) with its transcript: the clip wins, the transcript is its own."""
    voice = resolve_voice(name, studio)
    if reference_audio is not None:
        return Voice("reference", _base64_audio(reference_audio), (reference_text or "").strip() or None,
                     voice.description)
    if reference_text:
        return Voice(voice.label, voice.reference_audio, reference_text, voice.description)
    return voice


def _speaker(name: str, spec: SpeechSpeaker, studio: Studio) -> dict:
    """A dialogue speaker's voice, resolved by the same rules as the body's own voice."""
    try:
        voice = _voice((spec.voice or "").strip(), spec.reference_audio, spec.reference_text, studio)
    except InvalidRequest as err:
        raise InvalidRequest(f"speakers.{name}: {err}") from None
    return {"reference_audio": voice.reference_audio, "reference_text": voice.reference_text,
            "description": spec.description or voice.description}


def resolve_voice(name: str, studio: Studio) -> Voice:
    if not name or name == SMART_VOICE:
        return Voice(SMART)
    if name in studio.voices.names() or name in studio.presets.voices:
        return api_voice(name, studio.voices, studio.presets)
    known = ", ".join(v["id"] for v in voice_list(studio))
    raise InvalidRequest(f"Unknown voice {name!r} (available: {known}).")


def voice_list(studio: Studio) -> list[dict]:
    """The voices a request can name, in the shape of OpenAI's voice objects."""
    smart = {"id": SMART_VOICE, "object": "audio.voice", "created_at": 0, "name": SMART, "type": "prompt",
             "prompt": None}
    presets = [{"id": v.name, "object": "audio.voice", "created_at": 0, "name": v.label, "type": "audio_sample"}
               for v in studio.voices.all()]
    described = [{"id": v.name, "object": "audio.voice", "created_at": 0, "name": v.label, "type": "prompt",
                  "prompt": v.description} for v in studio.presets.voices.values()]
    return [smart, *presets, *described]


def _base64_audio(text: str) -> bytes:
    """base64 of a clip, optionally as a data: URL."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("reference_audio must be the clip's bytes in base64 (or a data: URL).") from None
