"""Finished takes: written as wav files into a bounded folder, and each visitor's short history."""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inference.audio.codec import encode

log = logging.getLogger(__name__)

HISTORY_SIZE = 5  # takes kept per visitor
MAX_FILES = 200  # takes kept on disk for everyone together; the oldest are deleted first
_KEPT = (".wav", ".vtt", ".srt")  # takes, their turns and subtitles


class TakeStore:
    """A folder of wav files that never grows past `max_files` (oldest deleted first)."""

    def __init__(self, folder: Path | str | None = None, max_files: int = MAX_FILES) -> None:
        default = Path(tempfile.gettempdir()) / "higgs-voice-studio" / "takes"
        self.folder = Path(folder or default)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_files = max_files
        self._lock = threading.Lock()

    def save(self, waveform: np.ndarray, sample_rate: int, stem: str = "take") -> Path:
        # unguessable: a take is reachable by its URL, and only its visitor is given that URL
        name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(16)}.wav"
        path = self.folder / name
        path.write_bytes(encode(waveform, "wav", sample_rate))  # tagged as AI-generated
        self._prune()
        return path

    def save_text(self, text: str, suffix: str, stem: str) -> Path:
        """A take's companion file (subtitles) beside it, pruned with the takes."""
        path = self.folder / f"{stem}.{suffix}"
        path.write_text(text, encoding="utf-8")
        self._prune()
        return path

    def served_paths(self) -> list[str]:
        """What the web server must be allowed to serve from: nothing extra when the folder is under the
        temp dir or the working directory (Gradio copies takes from there into its cache), else the folder.
        Everything in an allowed folder can be fetched by URL, so it must hold nothing but takes."""
        folder = self.folder.resolve()
        if any(folder.is_relative_to(base) for base in (Path(tempfile.gettempdir()).resolve(), Path.cwd().resolve())):
            return []
        others = [p.name for p in folder.iterdir() if p.suffix not in _KEPT][:3]
        if others:
            log.warning("HVS_TAKES_DIR %s holds other files (%s): anything in it can be downloaded by URL; give the "
                        "takes a folder of their own.", folder, ", ".join(others))
        return [str(folder)]

    def _prune(self) -> None:
        with self._lock:
            files = sorted((p for p in self.folder.iterdir() if p.suffix in _KEPT), key=lambda p: p.stat().st_mtime)
            for old in files[: max(len(files) - self.max_files, 0)]:
                old.unlink(missing_ok=True)


@dataclass(frozen=True)
class Take:
    path: str
    text: str
    seed: int | None  # None: a stopped take whose random seed the engine had not reported yet
    voice: str
    audio_s: float
    stopped_at: float | None = None  # seconds of audio made before Stop: the part kept


def add_take(history: list[dict] | None, take: Take, size: int = HISTORY_SIZE) -> list[dict]:
    """Newest first, at most `size` entries; entries whose file was pruned are dropped."""
    kept = [t for t in (history or []) if Path(t.get("path", "")).is_file()]
    return [asdict(take), *kept][:size]
