"""The personal voice library, kept in the visitor's own browser (gr.BrowserState, localStorage).

Entries are plain dicts so they survive JSON: {"name", "transcript", "audio": base64 Ogg Opus at 24 kHz,
"consent": whether the visitor confirmed the right to use the voice when saving it}.
The server never stores them; it only turns an entry back into a temporary file when it is used.

Size is what limits a library: a browser keeps about 5 million characters of localStorage per site,
and Gradio stores the library encrypted and base64-encoded once more. Opus at ~80 kbps (transparent
for speech) makes a 15 s voice about 0.28 M characters there, where FLAC took 0.68 M (measured on a
15 s espeak-ng clip).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import secrets
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from inference.audio.incoming import ClipLimits, check_size, read_clip
from inference.contract.errors import InvalidAudio, InvalidRequest
from inference.contract.request import SAMPLE_RATE

MAX_VOICES = 8
MAX_SAVED_S = 15.0  # cloning gains little from longer references; the engine uses up to 30 s
MAX_NAME_CHARS = 40
OPUS_LEVEL = 0.7  # libsndfile's 0 (largest) .. 1 (smallest) scale: ~80 kbps
STORED_BUDGET_CHARS = 4_000_000  # of the ~5 M characters a browser keeps per site
_FILES_KEPT = 50
NEW_VOICE = ClipLimits("The clip", MAX_SAVED_S, keep_start=True)  # what a visitor saves: its first 15 s
# An entry comes back from the browser, where anyone can change it: it is held to what make_entry writes
# (15 s of Opus is ~0.15 MB, of FLAC from earlier versions ~0.5 MB; the decoder may add a few ms).
SAVED_VOICE = ClipLimits("This saved voice", MAX_SAVED_S + 1, max_bytes=2 * 2**20,
                         advice=f"This studio saves voices of at most {MAX_SAVED_S:g} s: delete it from your "
                                "library and save the voice again.")


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidRequest("Give the voice a name first.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"The name is too long: at most {MAX_NAME_CHARS} characters.")
    return name


def _entries(library: list[dict] | None) -> list[dict]:
    """A library as the browser sent it back (the visitor's to change): its objects, no more than the studio
    ever saves. (300,000 names, 17 MB, took 20 s to list and held every route for 3 s.)"""
    return [entry for entry in library[:MAX_VOICES] if isinstance(entry, dict)] if isinstance(library, list) else []


def names(library: list[dict] | None) -> list[str]:
    return [entry["name"] for entry in _entries(library) if "name" in entry]


def make_entry(audio_path: str | Path, name: str, transcript: str | None, consent: bool = False) -> dict:
    """Encode a clip (any format) as a library entry: mono 24 kHz Opus, at most MAX_SAVED_S seconds."""
    wave = read_clip(audio_path, NEW_VOICE, SAMPLE_RATE)
    if wave.size == 0 or float(np.max(np.abs(wave))) < 1e-3:
        raise InvalidRequest("The clip is silent; record or upload a voice before saving it.")
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", SAMPLE_RATE, 1, format="OGG", subtype="OPUS", compression_level=OPUS_LEVEL) as f:
        f.write(wave)
    return {
        "name": _clean_name(name),
        "transcript": (transcript or "").strip(),
        "audio": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "consent": bool(consent),
    }


def stored_chars(library: list[dict] | None) -> int:
    """About how many characters of localStorage the library takes once encrypted (base64 again: x4/3)."""
    return len(json.dumps(library or [])) * 4 // 3


def save(library: list[dict] | None, entry: dict) -> list[dict]:
    """Add an entry (replacing one with the same name). Raises InvalidRequest when the library is full,
    by count or by the space a browser gives it, instead of letting the browser drop the save silently."""
    rest = [e for e in _entries(library) if e.get("name") != entry["name"]]
    if len(rest) >= MAX_VOICES:
        raise InvalidRequest(f"Your library is full ({MAX_VOICES} voices). Delete one first.")
    entries = [entry, *rest]
    size = stored_chars(entries)
    if size > STORED_BUDGET_CHARS:
        raise InvalidRequest(f"Your browser has no room for this voice: the library would take "
                             f"{size / 1e6:.1f} M of the {STORED_BUDGET_CHARS / 1e6:.0f} M characters "
                             "a browser keeps. Delete a voice or save a shorter clip.")
    return entries


def find(library: list[dict] | None, name: str | None) -> dict:
    for entry in _entries(library):
        if entry.get("name") == name:
            return entry
    raise InvalidRequest("Pick one of your saved voices first.")


def rename(library: list[dict] | None, old: str | None, new: str | None) -> list[dict]:
    entry = find(library, old)
    new = _clean_name(new)
    if new != old and new in names(library):
        raise InvalidRequest(f"You already have a voice called {new!r}.")
    return [{**e, "name": new} if e is entry else e for e in _entries(library)]


def delete(library: list[dict] | None, name: str | None) -> list[dict]:
    entry = find(library, name)
    return [e for e in _entries(library) if e is not entry]


def to_file(entry: dict, folder: Path | str | None = None) -> Path:
    """The entry's audio as a WAV file (same content -> same file), which every browser's player and the
    engine read. Entries saved as FLAC by earlier versions decode the same way. The entry comes from the
    browser: it is read within SAVED_VOICE's limits (InvalidAudio past them) before anything is written."""
    text = entry.get("audio")
    if not isinstance(text, str):
        raise InvalidAudio("This saved voice holds no audio: delete it from your library and save the voice again.")
    check_size(len(text) * 3 // 4, SAVED_VOICE)  # before unpacking the base64
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAudio("This saved voice is damaged: delete it from your library and save the voice again.") from None
    folder = Path(folder or Path(tempfile.gettempdir()) / "higgs-voice-studio" / "library")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.wav"
    if not path.is_file():
        partial = path.with_suffix(f".{secrets.token_hex(4)}.part")  # two visitors may use the same voice at once
        sf.write(partial, read_clip(data, SAVED_VOICE, SAMPLE_RATE), SAMPLE_RATE, subtype="PCM_16", format="WAV")
        partial.replace(path)
        files = sorted(folder.glob("*.wav"), key=os.path.getmtime)
        for old in files[: max(len(files) - _FILES_KEPT, 0)]:
            old.unlink(missing_ok=True)
    return path
