"""Who speaks: the one voice resolver. Every door (the page, /synthesize, /dialogue, /v1/audio/speech, MCP,
the CLI, the worker) turns what it was given into a `VoiceSpec` and asks `VoiceResolver.resolve` for the
`Voice`; no door has a voice rule of its own.

The rule for a voice *name*, the same at every door (case does not matter):
  - "" (or none) or "smart"            -> smart voice: the model picks a voice that suits the text
  - a preset voice's name (robot_en)   -> its clip and transcript (the voices folder)
  - a trained voice's name or card name -> its LoRA adapter (the trained folder, inference/model/cards.py)
  - a described voice's name or label  -> its description (assets/voice_descriptions.json)
  - one of OpenAI's names (alloy, ...) -> what assets/openai_voices.json (or the operator's file) maps it to
  - several words ("a calm, deep voice") -> a voice described in those words
  - a single word that names no voice  -> refused; the message lists every name, OpenAI's included
A name taken twice means the earlier line (an operator's preset called "alloy" is that preset).

A spec may also carry words describing the voice (a described voice's name or label picks its words), and
a clip with its transcript: the clip is cloned, whatever the name, and a name's description is kept. A
transcript goes with a clip; with a preset voice, which has its own, it is refused. A trained voice given a clip
keeps its adapter: the adapter speaks, prompted with the clip (clone + adapter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from inference.contract.errors import BadSetting, InvalidRequest
from inference.model.cards import trained_voices
from settings import Settings
from studio.openai_voices import Mapping, load_table
from studio.scene import ScenePresets
from studio.voice_library import VoiceLibrary

SMART = "Smart voice"
DESCRIBED = "Describe a voice"
PRESET = "Preset voice"
CLONE = "Clone a voice"
MODES = (SMART, DESCRIBED, PRESET)  # the page's voices without a clip; a clip present always means cloning
OWN_CLIP = "your clip"  # history label of a clip that has no saved name
SMART_NAME = "smart"
EXAMPLE_WORDS = "a calm, deep male voice"


@dataclass(frozen=True)
class Voice:
    """The voice part of a request: a reference clip (+ transcript) and/or a description for the scene."""

    label: str
    reference_audio: Path | bytes | None = None
    reference_text: str | None = None
    description: str | None = None
    is_own_clip: bool = False  # the caller's clip: needs their consent
    adapter: str | None = None  # a trained voice: the name of its LoRA adapter

    def fields(self) -> dict:
        """As a speaker's voice in a SynthesisRequest (the engine's SpeakerVoice)."""
        return {k: v for k, v in (("reference_audio", self.reference_audio), ("reference_text", self.reference_text),
                                  ("description", self.description), ("adapter", self.adapter)) if v is not None}

    def take_fields(self) -> dict:
        """As a single take's voice in a SynthesisRequest: the clip and its transcript, the adapter."""
        return {k: v for k, v in (("reference_audio", self.reference_audio), ("reference_text", self.reference_text),
                                  ("adapter", self.adapter)) if v is not None}


@dataclass(frozen=True)
class VoiceSpec:
    """What a door was given for one voice. Every field may be empty: nothing at all is the smart voice."""

    name: str | None = None  # resolved by the rule above
    description: str | None = None  # words describing the voice, or a described voice's name
    clip: Path | str | bytes | None = None  # a clip to clone (a file or its bytes): wins over a name's clip
    clip_text: str | None = None  # the clip's transcript
    label: str | None = None  # the clip's name in the take history (a saved voice's name)
    saved: bool = False  # a clip from the visitor's own library: consent was given when it was saved


@dataclass(frozen=True)
class NamedVoice:
    """One name a request can give, for listings (/v1/audio/voices) and the unknown-name message."""

    name: str
    kind: str  # "smart", "preset", "trained", "described" or "openai"
    voice: Voice
    label: str
    maps_to: str | None = None  # an OpenAI name's table value


class VoiceResolver:
    """The studio's voices: presets (a folder), trained voices (a folder of adapters, `trained`, read again when
    it changes), described voices and OpenAI's names (from the assets, or an operator's table at
    `openai_voices`). Raises BadSetting when that table does not resolve."""

    def __init__(self, library: VoiceLibrary | None = None, presets: ScenePresets | None = None,
                 openai_voices: Path | str | None = None, trained: Path | str | None = None) -> None:
        self.library = library if library is not None else VoiceLibrary()
        self.presets = presets if presets is not None else ScenePresets.load()
        self.trained_root = Path(trained) if trained else None
        self._labels = {v.label.casefold(): v.name.casefold() for v in self.presets.voices.values()}
        self._openai_entries: list[NamedVoice] = []
        self._build()
        self._openai_entries = [self._openai(m, openai_voices) for m in load_table(openai_voices).values()]
        self._build()

    def _build(self) -> None:
        """The names in the rule's order; a name taken twice keeps its first line."""
        named = [NamedVoice(SMART_NAME, "smart", Voice(SMART), SMART)]
        named += [NamedVoice(v.name, "preset", Voice(v.label, v.audio_path, v.transcript), v.label)
                  for v in self.library.all()]
        for t in trained_voices(self.trained_root):  # by folder name, and by the name on its card
            voice = Voice(f"trained: {t.name}", description=t.description, adapter=t.slug)
            named += [NamedVoice(t.slug, "trained", voice, t.name), NamedVoice(t.name, "trained", voice, t.name)]
        named += [NamedVoice(v.name, "described", Voice(f"described: {v.label}", description=v.description), v.label)
                  for v in self.presets.voices.values()]
        self._by_name: dict[str, NamedVoice] = {}
        for entry in named + self._openai_entries:
            self._by_name.setdefault(entry.name.casefold(), entry)
        self._trained_seen = self._trained_stamp()

    def _trained_stamp(self) -> float | None:
        try:
            return self.trained_root.stat().st_mtime if self.trained_root else None
        except OSError:
            return None

    def _fresh(self) -> dict[str, NamedVoice]:
        """The names, read again when a trained voice was added or removed since (the folder changed)."""
        if self._trained_stamp() != self._trained_seen:
            self._build()
        return self._by_name

    @property
    def trained(self) -> list[NamedVoice]:
        """The trained voices, once each (by folder name)."""
        return [entry for key, entry in self._fresh().items()
                if entry.kind == "trained" and key == entry.voice.adapter]

    def _openai(self, mapping: Mapping, table: Path | str | None) -> NamedVoice:
        if mapping.clip is not None:
            voice = Voice(mapping.name, mapping.clip, mapping.transcript)
        else:
            try:
                voice = replace(self.named(mapping.to), label=mapping.name)
            except InvalidRequest:
                raise BadSetting(f"The OpenAI voice table {table or 'assets/openai_voices.json'}: {mapping.name} "
                                 f"maps to {mapping.to!r}, which names no preset or described voice here (words "
                                 "describing a voice need more than one word).") from None
        return NamedVoice(mapping.name, "openai", voice, mapping.name, mapping.shown)

    # ---- the rule --------------------------------------------------------------------------------
    def named(self, name: str | None) -> Voice:
        """A voice by name, by the rule in this module's docstring. Raises InvalidRequest."""
        name = " ".join((name or "").split())
        if not name:
            return Voice(SMART)
        key = name.casefold()
        by_name = self._fresh()
        entry = by_name.get(key) or by_name.get(self._labels.get(key, ""))
        if entry is not None:
            return entry.voice
        if " " in name:
            return Voice(f"described: {name}", description=name)
        raise InvalidRequest(self.unknown_message(name))

    def unknown_message(self, name: str) -> str:
        shown = name if len(name) <= 40 else name[:37] + "..."
        return (f"Unknown voice {shown!r}. Give a voice name ({', '.join(self.names())}) or describe the voice "
                f"in a few words, e.g. \"{EXAMPLE_WORDS}\".")

    def resolve(self, spec: VoiceSpec | str | None) -> Voice:
        """The voice a door was given (a name alone may be passed as a string). Raises InvalidRequest."""
        spec = spec if isinstance(spec, VoiceSpec) else VoiceSpec(name=spec)
        for what, value in (("voice name", spec.name), ("voice description", spec.description),
                            ("clip's transcript", spec.clip_text), ("clip's name", spec.label)):
            if value is not None and not isinstance(value, str):
                raise InvalidRequest(f"A {what} must be text (got {type(value).__name__}).")
        voice = self.named(spec.name)
        words = self.presets.voice_description(spec.description)
        if words and voice.description:
            raise InvalidRequest(f"The voice {spec.name.strip()!r} is described in words already: give either "
                                 "its name or a description, not both.")
        clip_text = (spec.clip_text or "").strip() or None
        if spec.clip is not None and spec.clip != "":
            clip = Path(spec.clip) if isinstance(spec.clip, str) else spec.clip
            return Voice((spec.label or "").strip() or OWN_CLIP, clip, clip_text, voice.description or words,
                         is_own_clip=not spec.saved, adapter=voice.adapter)
        if clip_text and voice.reference_audio is not None:
            raise InvalidRequest(f"A transcript cannot be combined with the preset voice {spec.name.strip()!r}: it "
                                 "has its own. Send a transcript only with a clip of your own.")
        if words:
            described = self.presets.voices.get(spec.description.strip())
            label = voice.label if voice.reference_audio is not None else \
                f"described: {described.label if described else words}"
            return replace(voice, label=label, description=words, reference_text=voice.reference_text or clip_text)
        return replace(voice, reference_text=voice.reference_text or clip_text)

    # ---- listings --------------------------------------------------------------------------------
    def entries(self) -> list[NamedVoice]:
        """Every name a request can give, in the rule's order (smart, presets, trained, described, OpenAI's); a
        trained voice once, by its folder name."""
        return [entry for key, entry in self._fresh().items()
                if entry.kind != "trained" or key == entry.voice.adapter]

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries()]


def resolver_for(settings: Settings) -> VoiceResolver:
    """The one voice rule over the folders the settings name: preset voices, trained voices, described voices and
    OpenAI's names (the operator's table, if any). Every root builds its resolver so."""
    return VoiceResolver(VoiceLibrary(settings.voices_dir), ScenePresets.load(settings.assets_dir),
                         openai_voices=settings.openai_voices, trained=settings.trained_root)
