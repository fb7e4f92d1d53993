"""Preset voices: a folder of `NAME.wav` clips, each with a same-name `NAME.txt` transcript and an
optional `NAME.json` ({"label": ..., "description": ...}). Shared by the studio and the worker."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from inference.contract.errors import InvalidRequest

DEFAULT_VOICES_DIR = Path(__file__).resolve().parent.parent / "assets" / "voices"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class PresetVoice:
    name: str
    audio_path: Path
    transcript: str
    label: str
    description: str = ""


class VoiceLibrary:
    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder or DEFAULT_VOICES_DIR)
        self._voices = self._scan()

    def _scan(self) -> dict[str, PresetVoice]:
        voices: dict[str, PresetVoice] = {}
        if not self.folder.is_dir():
            return voices
        for audio in sorted(self.folder.iterdir()):
            transcript = audio.with_suffix(".txt")
            if audio.suffix.lower() not in AUDIO_SUFFIXES or not _NAME.match(audio.stem) or not transcript.is_file():
                continue
            meta_path = audio.with_suffix(".json")
            meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
            voices[audio.stem] = PresetVoice(
                name=audio.stem,
                audio_path=audio,
                transcript=transcript.read_text(encoding="utf-8").strip(),
                label=meta.get("label", audio.stem.replace("_", " ").title()),
                description=meta.get("description", ""),
            )
        return voices

    def names(self) -> list[str]:
        return list(self._voices)

    def all(self) -> list[PresetVoice]:
        return list(self._voices.values())

    def get(self, name: str) -> PresetVoice:
        try:
            return self._voices[name]
        except KeyError:
            known = ", ".join(self._voices) or "none installed"
            raise InvalidRequest(f"Unknown preset voice {name!r} (available: {known}).") from None
