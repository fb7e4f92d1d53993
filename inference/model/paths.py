"""Where the studio keeps its own files (the tiny checkpoint, the browser secret). No torch here."""

from __future__ import annotations

from pathlib import Path

from settings import studio_cache


def cache_root() -> Path:
    """`$HVS_CACHE/higgs-voice-studio`, else under `$HF_HOME` (settings.py reads both)."""
    return studio_cache()
