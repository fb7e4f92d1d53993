"""Where the studio keeps its own files (the tiny checkpoint, the browser secret). No torch here."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$HVS_CACHE/higgs-voice-studio`, else under `$HF_HOME` (~/.cache/huggingface), like the weights.
    Absolute, so a relative HVS_CACHE names one place even if the process later changes directory."""
    root = os.environ.get("HVS_CACHE") or os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface"
    return Path(root).resolve() / "higgs-voice-studio"
