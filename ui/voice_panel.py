"""The page's voice panel (a clip box, then Smart voice / Describe a voice / Preset voice) as a VoiceSpec for
the studio's one voice resolver (studio/voices.py). Only the panel's own words live here."""

from __future__ import annotations

from pathlib import Path

from inference.contract.errors import InvalidRequest
from studio.voices import CLONE, DESCRIBED, MODES, PRESET, SMART, Voice, VoiceResolver, VoiceSpec


def pick_voice(resolver: VoiceResolver, mode: str | None, *, description: str | None = None,
               preset: str | None = None, clip: str | Path | None = None, clip_text: str | None = None,
               clip_name: str | None = None) -> Voice:
    """A clip present means cloning it, whatever the mode; `clip_name` (a saved voice's name) labels the take.
    Raises InvalidRequest when the panel is incomplete."""
    if clip:
        return resolver.resolve(VoiceSpec(clip=clip, clip_text=clip_text, label=clip_name))
    mode = mode or SMART
    if mode == SMART:
        return resolver.resolve(None)
    if mode == DESCRIBED:
        if not (description or "").strip():
            raise InvalidRequest("Describe the voice (or pick a description), or choose Smart voice.")
        return resolver.resolve(VoiceSpec(description=description))
    if mode == PRESET:
        if not preset:
            raise InvalidRequest("Pick a preset voice, or choose Smart voice.")
        return resolver.resolve(VoiceSpec(name=preset))
    if mode == CLONE:
        raise InvalidRequest("Record or upload a clip of the voice to clone (5-15 s of clear speech works best).")
    raise InvalidRequest(f"Unknown voice choice {mode!r} (choose one of: {', '.join(MODES)}).")
