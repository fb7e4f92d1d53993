"""Dialogues: a script with a voice per speaker -> one generation per turn, in the official layout.

Official layout (boson-ai/higgs-audio `--ref_audio_in_system_message --chunk_method speaker`, and
transformers' `higgs_audio_v2` docs), voice_layout="scene", the default:

    system     "Generate audio following instruction."  (the multi-speaker instruction when no voice is given)
    scene      description text, then per speaker "SPEAKER0:" + its clip, or "SPEAKER1: <described voice>",
               or for a smart voice "SPEAKER0: feminine" / "SPEAKER1: masculine" (alternating, as the official script)
    user/assistant   the last CONTEXT_TURNS generated turns: "[SPEAKERn] text" + their audio
    user       "[SPEAKERn] text" of the turn to speak

In that layout the clips' transcripts are not part of the prompt (as in the official script).

voice_layout="separate" keeps voices apart (voices bleed or swap with 3+ speakers, higgs-audio issue
#138): each turn's prompt holds only the speaking voice. The scene describes only that speaker, its clip
comes as the official cloning pair (user "[SPEAKERn] transcript" + assistant clip), and the context holds
only that speaker's own earlier turns. The price: turns do not hear each other, so the exchange may
sound less like one conversation. Not measurable without the real weights, hence not the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.audio.reference import prepare_reference
from inference.contract.request import SpeakerVoice, SynthesisRequest
from inference.prompting.longform import split_text
from inference.prompting.prompt import SYSTEM_PROMPT, Part, _text, caption_of
from inference.prompting.script import Script, parse_script
from inference.prompting.text import normalize_text

MULTISPEAKER_SYSTEM_PROMPT = (
    "You are an AI assistant designed to convert text into speech.\n"
    "If the user's message includes a [SPEAKER*] tag, do not read out the tag and generate speech for the "
    "following text, using the specified voice.\n"
    "If no speaker tag is present, select a suitable voice on your own."
)
# The real template inserts a blank line when the scene starts with "SPEAKER0:", so a dialogue's scene
# always starts with a description: the official script's default scene when none is given.
DEFAULT_SCENE = "Audio is recorded from a quiet room."
SMART_VOICES = ("feminine", "masculine")  # the official script's default, alternating
CONTEXT_TURNS = 2  # generated turns kept in the prompt (references are always kept)


@dataclass(frozen=True)
class Speaker:
    name: str  # as written in the script
    number: int
    clip: np.ndarray | None = None  # prepared reference audio
    transcript: str | None = None  # normalized
    description: str | None = None  # words for the scene when there is no clip

    @property
    def tag(self) -> str:
        return f"SPEAKER{self.number}"

    def scene_items(self) -> list[dict]:
        if self.clip is not None:
            return [*_text(f"{self.tag}:"), {"type": "audio", "audio": self.clip}]
        return _text(f"{self.tag}: {self.description}")


@dataclass(frozen=True)
class Dialogue:
    """Builds each turn's conversation (a ConversationBuilder, see prompt.py)."""

    system: str
    scene: str
    speakers: list[Speaker]
    layout: str = "scene"

    def __call__(self, parts: list[Part], index: int, spoken: list[tuple[int, np.ndarray]]
                 ) -> tuple[list[dict], list[np.ndarray]]:
        current = self.speakers[parts[index].voice]
        separate = self.layout == "separate"
        shown = [current] if separate else self.speakers
        scene = _text(self.scene)
        for speaker in shown:
            if not (separate and speaker.clip is not None):
                scene += speaker.scene_items()
        conversation = [{"role": "system", "content": _text(self.system)}, {"role": "scene", "content": scene}]
        audio = [s.clip for s in shown if s.clip is not None and not separate]
        if separate and current.clip is not None:
            conversation += _turn(f"[{current.tag}] {current.transcript or ''}".strip(), current.clip)
            audio.append(current.clip)
        context = [(i, wave) for i, wave in spoken if not separate or parts[i].voice == current.number]
        for i, wave in context[-CONTEXT_TURNS:]:
            conversation += _turn(parts[i].text, wave)
            audio.append(wave)
        conversation.append({"role": "user", "content": _text(parts[index].text)})
        return conversation, audio


def _turn(text: str, audio: np.ndarray) -> list[dict]:
    return [{"role": "user", "content": _text(text)}, {"role": "assistant", "content": [{"type": "audio", "audio": audio}]}]


def voice_of(speakers: dict[str, SpeakerVoice], name: str) -> SpeakerVoice | None:
    """The voice given for a script name (names match regardless of case)."""
    return next((voice for key, voice in speakers.items() if key.strip().casefold() == name.casefold()), None)


def part_adapters(request: SynthesisRequest, parts: list[Part]) -> list[str | None]:
    """The trained voice (adapter name) of each part: a dialogue turn's speaker's, else the request's own."""
    names = parse_script(request.text).speakers if request.is_dialogue else []
    given = request.speakers or {}
    own = [(voice_of(given, name) or SpeakerVoice()).adapter for name in names]
    return [(own[p.voice] if p.voice is not None and p.voice < len(own) else None) or request.adapter for p in parts]


def plan_dialogue(request: SynthesisRequest) -> tuple[list[Part], Dialogue, list[str]]:
    """The parts (turns, long turns cut like long texts), the conversation builder and the warnings."""
    script = parse_script(request.text)
    given = request.speakers or {}
    warnings = _voice_warnings(script, given)
    speakers = []
    for number, name in enumerate(script.speakers):
        voice = voice_of(given, name) or SpeakerVoice()
        clip = None
        if voice.reference_audio is not None:
            prepared = prepare_reference(voice.reference_audio)
            clip = prepared.waveform
            warnings += [f"{name}'s voice: {w}" for w in prepared.warnings]
            if request.voice_layout == "separate" and not voice.reference_text:
                warnings.append(f"No transcript was given for {name}'s clip; the clone is closer with one.")
        elif voice.reference_text:  # as for a single take (plan.py): a transcript alone has nothing to clone
            warnings.append(f"{name}'s voice: a reference transcript was given without reference audio; it was "
                            "ignored.")
        description = voice.description or SMART_VOICES[number % 2]
        transcript = normalize_text(voice.reference_text) if voice.reference_text else None
        speakers.append(Speaker(name, number, clip, transcript, description))
    all_smart = all(voice_of(given, name) is None or voice_of(given, name).is_smart for name in script.speakers)
    system = MULTISPEAKER_SYSTEM_PROMPT if all_smart else SYSTEM_PROMPT
    parts = []
    for number, turn in enumerate(script.turns):
        for piece, chunk in enumerate(split_text(normalize_text(turn.text), by_sentence=request.parts == "sentence")):
            pause = request.pause_s if number and not piece else 0.0
            parts.append(Part(f"[{turn.tag}] {chunk}", caption_of(chunk), turn.speaker, turn.number, pause))
    return parts, Dialogue(system, request.scene or DEFAULT_SCENE, speakers, request.voice_layout), warnings


def _voice_warnings(script: Script, given: dict[str, SpeakerVoice]) -> list[str]:
    warnings = []
    unused = [name for name in given if script.number_of(name) is None]
    if unused:
        warnings.append(f"A voice was given for {_names(unused)}, who never speak{'s' if len(unused) == 1 else ''} "
                        f"in the script (its speakers: {_names(script.speakers)}); it was not used.")
    missing = [name for name in script.speakers if voice_of(given, name) is None]
    if given and missing:
        warnings.append(f"No voice was chosen for {_names(missing)}: the model picks a voice (smart voice).")
    return warnings


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)
