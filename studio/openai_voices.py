"""OpenAI's voice names (alloy, ash, ... verse) and what each means in this studio.

The shipped table is `assets/openai_voices.json`; an operator's file (same shape, its path given by the
root) replaces the names it lists and may add names. A value is a voice name or words (resolved by the
one rule in studio/voices.py) or a saved clip `{"clip": "file.wav", "transcript": "..."}`, a path
relative to the file. The table is read and checked once, when the studio or worker is built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from inference.contract.errors import BadSetting

SHIPPED_TABLE = Path(__file__).resolve().parent.parent / "assets" / "openai_voices.json"
OPENAI_NAMES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
                "marin", "cedar")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Mapping:
    """One name of the table: a voice name or words (`to`), or a clip with its transcript."""

    name: str
    to: str | None = None
    clip: Path | None = None
    transcript: str | None = None

    @property
    def shown(self) -> str:
        """What the name maps to, for people (a clip by its file name, never a server folder)."""
        return self.to if self.clip is None else f"clip {self.clip.name}"


def load_table(override: Path | str | None = None) -> dict[str, Mapping]:
    """The shipped table, with the operator's file (if any) laid over it. Raises BadSetting."""
    table = _read(SHIPPED_TABLE)
    if override:
        table.update(_read(Path(override)))
    return table


def _read(path: Path) -> dict[str, Mapping]:
    where = f"The OpenAI voice table {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise BadSetting(f"{where} cannot be read ({err.strerror or err}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadSetting(f"{where} is not valid JSON ({err}).") from None
    entries = data.get("voices", data) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise BadSetting(f'{where} must be a JSON object: {{"voices": {{"alloy": "robot_en", ...}}}}.')
    table = {}
    for name, value in entries.items():
        if name.startswith("_"):  # comments
            continue
        if not _NAME.match(name):
            raise BadSetting(f"{where}: {name[:40]!r} is not a voice name (one word of letters, digits, - and _).")
        table[name] = _mapping(name, value, path.parent, where)
    return table


def _mapping(name: str, value: object, folder: Path, where: str) -> Mapping:
    if isinstance(value, str) and value.strip():
        return Mapping(name, to=" ".join(value.split()))
    if isinstance(value, dict) and set(value) <= {"clip", "transcript"} and isinstance(value.get("clip"), str):
        clip = folder / value["clip"]
        transcript = value.get("transcript")
        if not clip.is_file():
            raise BadSetting(f"{where}: {name} names the clip {value['clip']!r}, which is not there.")
        if transcript is not None and not isinstance(transcript, str):
            raise BadSetting(f"{where}: {name}'s transcript must be text.")
        return Mapping(name, clip=clip, transcript=(transcript or "").strip() or None)
    raise BadSetting(f'{where}: {name} must map to a voice name, words describing a voice, or '
                     f'{{"clip": "file.wav", "transcript": "..."}} (got {json.dumps(value)[:60]}).')
