"""What a door asks the studio for: one typed front request, a take or a dialogue, before any voice is resolved.

Every door (the page and its Dialogue tab, /synthesize, /dialogue, /v1/audio/speech, MCP, the CLI, the worker)
fills a `TakeRequest` from its own input and hands it to `Studio.prepare` (the worker, which reads its job
before its studio exists, calls `engine_request` with the resolver). Here, once for every door, the one voice
rule (studio/voices.py) and the one scene rule (studio/scene.py) turn it into the engine's SynthesisRequest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inference.contract.errors import InvalidRequest
from inference.contract.request import SynthesisRequest
from studio.scene import compose_scene
from studio.voices import Voice, VoiceResolver, VoiceSpec

# A voice as a door has it: a name or words (str), a spec (a clip, a description...), nothing (the smart
# voice), or a Voice the door resolved already (its picker names voices its own way) by the same resolver.
VoiceGiven = VoiceSpec | Voice | str | None


@dataclass(frozen=True)
class TakeRequest:
    """One take (`voice`) or one dialogue (`speakers`, a voice per speaker name; a speaker left out gets a smart
    voice). `options` are the engine request's own fields: the sampling options, candidates, parts, pause_s,
    voice_layout; None means the default."""

    text: str
    voice: VoiceGiven = None
    speakers: Mapping[str, VoiceGiven] | None = None
    tone: str | None = None  # a tone preset's name (assets/scene_presets.json)
    setting: str | None = None  # a setting preset's name
    scene: str | None = None  # the caller's own scene words
    seed: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_dialogue(self) -> bool:
        return self.speakers is not None


def engine_request(take: TakeRequest, resolver: VoiceResolver) -> SynthesisRequest:
    """The engine's request for `take`. Raises InvalidRequest in words (a speaker's problem names the speaker)."""
    if take.is_dialogue and not (take.text or "").strip():
        raise InvalidRequest("There is no script to speak: write one line per turn, e.g. 'Alice: Hello there.'")
    voice = _resolved(take.voice, resolver)
    fields: dict[str, Any] = {**voice.take_fields(), **{k: v for k, v in take.options.items() if v is not None}}
    if take.speakers is not None:
        fields["speakers"] = {name: _speaker(name, given, resolver) for name, given in take.speakers.items()}
    scene = compose_scene(resolver.presets, tone=take.tone, setting=take.setting,
                          voice_description=voice.description, extra=take.scene)
    return SynthesisRequest.parse(text=take.text, scene=scene, seed=take.seed, **fields)


def _resolved(given: VoiceGiven, resolver: VoiceResolver) -> Voice:
    return given if isinstance(given, Voice) else resolver.resolve(given)


def _speaker(name: str, given: VoiceGiven, resolver: VoiceResolver) -> dict:
    try:
        return _resolved(given, resolver).fields()
    except InvalidRequest as err:
        raise InvalidRequest(f"speakers.{name}: {err}") from None
