"""Who speaks: the voice choices of the studio and of the /synthesize API, resolved to request fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.contract.errors import InvalidRequest
from studio.scene import ScenePresets
from studio.voice_library import VoiceLibrary

SMART = "Smart voice"
DESCRIBED = "Describe a voice"
PRESET = "Preset voice"
CLONE = "Clone a voice"
MODES = (SMART, DESCRIBED, PRESET)  # voices without a clip; a clip present always means cloning
OWN_CLIP = "your clip"  # history label of a clip that has no saved name


@dataclass(frozen=True)
class Voice:
    """The voice part of a request: a reference clip (+ transcript) and/or a description for the scene."""

    label: str
    reference_audio: Path | None = None
    reference_text: str | None = None
    description: str | None = None
    is_own_clip: bool = False  # the visitor's clip: needs their consent


def pick_voice(mode: str | None, *, description: str | None = None, preset: str | None = None,
               clip: str | Path | None = None, clip_text: str | None = None, clip_name: str | None = None,
               voices: VoiceLibrary, presets: ScenePresets) -> Voice:
    """What the studio's voice panel asks for, as request fields. A clip present means cloning it, whatever
    the mode; `clip_name` (a saved voice's name) labels the take. Raises InvalidRequest when incomplete."""
    if clip:
        return Voice((clip_name or "").strip() or OWN_CLIP, Path(clip), (clip_text or "").strip() or None,
                     is_own_clip=True)
    mode = mode or SMART
    if mode == SMART:
        return Voice(SMART)
    if mode == DESCRIBED:
        words = presets.voice_description(description)
        if not words:
            raise InvalidRequest("Describe the voice (or pick a description), or choose Smart voice.")
        preset_voice = presets.voices.get(description or "")
        return Voice(f"described: {preset_voice.label if preset_voice else words}", description=words)
    if mode == PRESET:
        if not preset:
            raise InvalidRequest("Pick a preset voice, or choose Smart voice.")
        found = voices.get(preset)
        return Voice(found.label, found.audio_path, found.transcript)
    if mode == CLONE:
        raise InvalidRequest("Record or upload a clip of the voice to clone (5-15 s of clear speech works best).")
    raise InvalidRequest(f"Unknown voice choice {mode!r} (choose one of: {', '.join(MODES)}).")


def api_voice(voice: str | None, voices: VoiceLibrary, presets: ScenePresets) -> Voice:
    """The API's `voice` parameter: a preset voice name, a voice description name, or words describing a voice."""
    name = (voice or "").strip()
    if not name:
        return Voice(SMART)
    if name in voices.names():
        found = voices.get(name)
        return Voice(found.label, found.audio_path, found.transcript)
    return Voice(f"described: {name}", description=presets.voice_description(name))
