"""OpenAI's speech request, read into the studio's one SynthesisRequest, and the voices it can name.

`voice` (a name, or OpenAI's object form {"id": "<name>"}) goes through the studio's one voice rule
(studio/voices.py): smart, a preset, a described voice, one of OpenAI's names (alloy, ...), or words.
`model` may be any name (tts-1, tts-1-hd, gpt-4o-mini-tts, this server's id): the studio has one model and
it speaks them all; the name is echoed in X-Model. `instructions` become the scene. The extensions
(reference_audio as base64, reference_text, seed, the sampling options; a dialogue's speakers, pause_s and
voice_layout: see wire/openai_speech.py) are checked by the shared request validation. A speaker's voice is
resolved by the same rule as the body's own.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from inference.contract.errors import InvalidRequest
from inference.contract.request import MAX_SEED, SynthesisRequest
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.voices import VoiceSpec
from wire.openai_speech import EXTENSIONS, SpeechBody, SpeechSpeaker

__all__ = ["EXTENSIONS", "SMART_VOICE", "SpeechBody", "synthesis_request", "voice_list"]

SMART_VOICE = "smart"


def synthesis_request(body: SpeechBody, studio: Studio) -> SynthesisRequest:
    """The take this body asks for. A seed is drawn here when none is given, so it can go in a header
    before the audio starts."""
    if body.speakers is not None and body.voice_name not in ("", SMART_VOICE):
        raise InvalidRequest(f"voice {body.voice_name!r} is one voice for a single take; a dialogue gives a voice "
                             "per speaker in speakers.")
    options = dict(body.model_extra or {})
    seed = options.pop("seed", None)
    speakers = None if body.speakers is None else {name: _speaker(name, spec) for name, spec in body.speakers.items()}
    request = studio.prepare(TakeRequest(body.input, _voice(body.voice, body.reference_audio, body.reference_text),
                                         speakers, scene=body.instructions, seed=seed, options=options))
    if request.seed is None:
        request = request.model_copy(update={"seed": secrets.randbelow(MAX_SEED + 1)})
    return request


def _voice(name: str | None, reference_audio: str | None, reference_text: str | None,
           description: str | None = None) -> VoiceSpec:
    """`voice` (a name, for the one voice rule), and a clip to clone (base64) with its transcript."""
    clip = _base64_audio(reference_audio) if reference_audio is not None else None
    return VoiceSpec(name=name, clip=clip, clip_text=reference_text, description=description)


def _speaker(name: str, spec: SpeechSpeaker) -> VoiceSpec:
    try:
        return _voice(spec.voice, spec.reference_audio, spec.reference_text, spec.description)
    except InvalidRequest as err:  # a clip that is not base64 audio
        raise InvalidRequest(f"speakers.{name}: {err}") from None


def voice_list(studio: Studio) -> list[dict]:
    """The voices a request can name, in the shape of OpenAI's voice objects; OpenAI's names say what they
    map to (`maps_to`)."""
    voices = []
    for entry in studio.resolver.entries():
        voice = {"id": entry.name, "object": "audio.voice", "created_at": 0, "name": entry.label,
                 "type": "audio_sample" if entry.voice.reference_audio is not None else
                 "trained" if entry.voice.adapter else "prompt"}
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
