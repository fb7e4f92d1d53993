"""The scene turn: tone and setting presets, a voice description and free text -> one scene string.

Shared by the studio page and its /synthesize API (and usable by any other front door), so a preset
means the same words everywhere. Presets live in `assets/scenes.json` and
`assets/voice_descriptions.json` (or the folder named by HVS_ASSETS_DIR). No torch in here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from inference.contract.errors import InvalidRequest
from inference.contract.request import MAX_SCENE_CHARS

DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class VoiceDescription:
    name: str
    label: str
    description: str


@dataclass(frozen=True)
class ScenePresets:
    tones: dict[str, str] = field(default_factory=dict)  # name -> sentence about delivery
    settings: dict[str, str] = field(default_factory=dict)  # name -> sentence about the recording place
    voices: dict[str, VoiceDescription] = field(default_factory=dict)  # voices described in words, no audio

    @classmethod
    def load(cls, folder: Path | str | None = None) -> ScenePresets:
        folder = Path(folder or DEFAULT_ASSETS_DIR)
        scenes = _read_json(folder / "scenes.json")
        voices = _read_json(folder / "voice_descriptions.json").get("voices", {})
        return cls(
            tones=dict(scenes.get("tones", {})),
            settings=dict(scenes.get("settings", {})),
            voices={name: VoiceDescription(name, v.get("label", name), v["description"]) for name, v in voices.items()},
        )

    def voice_description(self, name_or_text: str | None) -> str | None:
        """A preset's description by name (or label), else the words themselves (a typed description)."""
        if not name_or_text or not name_or_text.strip():
            return None
        value = name_or_text.strip()
        for voice in self.voices.values():
            if value in (voice.name, voice.label):
                return voice.description
        return value


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _pick(kind: str, name: str | None, options: dict[str, str]) -> str | None:
    if not name or not name.strip() or name.strip().lower() == "none":
        return None
    key = name.strip().lower()
    if key not in options:
        raise InvalidRequest(f"Unknown {kind} {name!r} (available: {', '.join(options) or 'none'}).")
    return options[key]


def compose_scene(
    presets: ScenePresets,
    tone: str | None = None,
    setting: str | None = None,
    voice_description: str | None = None,
    extra: str | None = None,
) -> str | None:
    """The scene turn for one take, or None when nothing was chosen.

    Order: where it is recorded, who speaks, how they speak, then the person's own words.
    Unknown preset names raise InvalidRequest naming the valid ones.
    """
    lines = [
        _pick("setting", setting, presets.settings),
        f"The speaker's voice: {voice_description.strip().rstrip('.')}." if voice_description and voice_description.strip() else None,
        _pick("tone", tone, presets.tones),
        extra.strip() if extra and extra.strip() else None,
    ]
    scene = "\n".join(line for line in lines if line)
    if len(scene) > MAX_SCENE_CHARS and lines[-1]:  # name the caller's own words, not the composed scene
        room = max(MAX_SCENE_CHARS - (len(scene) - len(lines[-1])), 0)
        raise InvalidRequest(f"The scene instructions are too long: {len(lines[-1])} characters, and with the "
                             f"voice's description, tone and setting at most {room} fit.")
    return scene or None
