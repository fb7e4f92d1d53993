"""The personal voice library, kept in the visitor's own browser (gr.BrowserState, localStorage).

Entries are plain dicts so they survive JSON: {"name", "transcript", "audio": base64 FLAC at 24 kHz}.
The server never stores them; it only turns an entry back into a temporary file when it is used.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from inference.audio import decode_audio
from inference.errors import InvalidRequest
from inference.schema import SAMPLE_RATE

MAX_VOICES = 8
MAX_SAVED_S = 20.0  # localStorage holds ~5 MB per site: 8 voices x 20 s of FLAC fit comfortably
MAX_NAME_CHARS = 40
_FILES_KEPT = 50


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidRequest("Give the voice a name first.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"The name is too long: at most {MAX_NAME_CHARS} characters.")
    return name


def names(library: list[dict] | None) -> list[str]:
    return [entry["name"] for entry in library or [] if isinstance(entry, dict) and "name" in entry]


def make_entry(audio_path: str | Path, name: str, transcript: str | None) -> dict:
    """Encode a clip (any format) as a library entry: mono 24 kHz FLAC, at most MAX_SAVED_S seconds."""
    wave = decode_audio(Path(audio_path), SAMPLE_RATE)[: int(MAX_SAVED_S * SAMPLE_RATE)]
    if wave.size == 0 or float(np.max(np.abs(wave))) < 1e-3:
        raise InvalidRequest("The clip is silent; record or upload a voice before saving it.")
    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return {
        "name": _clean_name(name),
        "transcript": (transcript or "").strip(),
        "audio": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }


def save(library: list[dict] | None, entry: dict) -> list[dict]:
    """Add an entry (replacing one with the same name). Raises InvalidRequest when the library is full."""
    rest = [e for e in library or [] if e.get("name") != entry["name"]]
    if len(rest) >= MAX_VOICES:
        raise InvalidRequest(f"Your library is full ({MAX_VOICES} voices). Delete one first.")
    return [entry, *rest]


def find(library: list[dict] | None, name: str | None) -> dict:
    for entry in library or []:
        if entry.get("name") == name:
            return entry
    raise InvalidRequest("Pick one of your saved voices first.")


def rename(library: list[dict] | None, old: str | None, new: str | None) -> list[dict]:
    entry = find(library, old)
    new = _clean_name(new)
    if new != old and new in names(library):
        raise InvalidRequest(f"You already have a voice called {new!r}.")
    return [{**e, "name": new} if e is entry else e for e in library or []]


def delete(library: list[dict] | None, name: str | None) -> list[dict]:
    entry = find(library, name)
    return [e for e in library or [] if e is not entry]


def to_file(entry: dict, folder: Path | str | None = None) -> Path:
    """The entry's audio as a FLAC file (same content -> same file), for the audio player and the engine."""
    data = base64.b64decode(entry["audio"], validate=True)
    folder = Path(folder or Path(tempfile.gettempdir()) / "higgs-voice-studio" / "library")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.flac"
    if not path.is_file():
        path.write_bytes(data)
        files = sorted(folder.glob("*.flac"), key=os.path.getmtime)
        for old in files[: max(len(files) - _FILES_KEPT, 0)]:
            old.unlink(missing_ok=True)
    return path
