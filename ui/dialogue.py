"""What the Dialogue tab and the /dialogue API share on the page's side: the speakers found in a script,
the voice choices per speaker and the voice each choice means. The dialogue itself is the studio's
(Studio.dialogue, studio/dialogue.py)."""

from __future__ import annotations

from inference.contract.errors import InvalidRequest
from inference.contract.request import check_speaker_count, optional_text
from inference.prompting.script import ScriptError, parse_script
from studio.service import Studio
from studio.take_request import VoiceGiven
from studio.voices import CLONE, Voice, VoiceSpec

from . import library
from .voice_panel import pick_voice

SMART_CHOICE = "smart"
CLIP_CHOICE = "clip"
EXAMPLE_SCRIPT = """Alice: Did you hear that? I think the storm is getting closer.
Bob: It's just the wind [laugh]. You always worry too much.
Alice: Maybe. But the last time you said that, we lost power for two days.
Bob: Fair point. Let's find the candles, just in case."""


def speakers_of(script: str | None) -> tuple[list[str], str | None]:
    """The speakers found so far while typing, and the script's problem in words (None when it is fine)."""
    if not script or not script.strip():
        return [], None
    try:
        return parse_script(script).speakers, None
    except ScriptError as err:
        return [], str(err)


def voice_choices(studio: Studio, saved: list[str]) -> list[tuple[str, str]]:
    """The single-voice page's choices as one list: smart, presets, described voices, My voices, a clip."""
    return [("Smart voice (the model picks)", SMART_CHOICE),
            *[(f"Preset: {v.label}", f"preset:{v.name}") for v in studio.voices.all()],
            *[(f"Described: {v.label}", f"described:{v.name}") for v in studio.presets.voices.values()],
            *[(f"My voices: {name}", f"saved:{name}") for name in saved],
            ("Clone a clip (record or upload it below)", CLIP_CHOICE)]


def voice_of_choice(studio: Studio, choice: str | None, clip: str | None, clip_text: str | None,
                    saved: list[dict] | None) -> Voice:
    """A picker's value -> the voice; a value typed by hand is a voice name or words (the one rule)."""
    choice = (choice or SMART_CHOICE).strip()
    kind, _, name = choice.partition(":")
    if choice == CLIP_CHOICE:
        return pick_voice(studio.resolver, CLONE, clip=clip, clip_text=clip_text)
    if kind == "saved":
        entry = library.find(saved, name)
        return studio.voice(VoiceSpec(clip=library.to_file(entry), clip_text=entry.get("transcript"), label=name,
                                      saved=True))
    return studio.voice(name if kind in ("preset", "described") else choice)


def api_speakers(speakers: dict | None, clips: list[str] | None) -> dict[str, VoiceGiven]:
    """The /dialogue API's `speakers`: name -> a voice name or words describing a voice (as the /synthesize
    `voice`), or {"clip": index into clips, "reference_text": "..."}; resolved with the take (Studio.prepare)."""
    check_speaker_count(speakers or {})
    voices: dict[str, VoiceGiven] = {}
    for name, value in (speakers or {}).items():
        if isinstance(value, str):
            voices[name] = value
        elif isinstance(value, dict) and isinstance(value.get("clip"), int) and not isinstance(value["clip"], bool):
            index = value["clip"]
            if not clips or not 0 <= index < len(clips):
                raise InvalidRequest(f"speakers.{name}.clip is {index}, but {len(clips or [])} clip(s) were sent.")
            clip_text = optional_text(f"speakers.{name}.reference_text", value.get("reference_text"))
            voices[name] = VoiceSpec(clip=clips[index], clip_text=clip_text)
        else:
            raise InvalidRequest(f"speakers.{name} must be a voice name, words describing a voice, or "
                                 '{"clip": 0, "reference_text": "..."} (got ' + f"{value!r:.60})")
    return voices
