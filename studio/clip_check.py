"""A reference clip checked the moment it arrives, before anyone presses Generate: can it be read, and is its
length useful for cloning? Read through the one bounded helper for incoming audio (inference/audio/incoming.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.audio.incoming import read_clip
from inference.audio.reference import MAX_REFERENCE_S, REFERENCE_CLIP
from inference.contract.errors import InvalidAudio
from inference.contract.request import SAMPLE_RATE

MIN_USEFUL_S = 3.0  # shorter clips clone poorly
_NOT_AUDIO = ("Could not read", "no audio track", "is empty", "holds no samples")


@dataclass(frozen=True)
class ClipVerdict:
    seconds: float | None = None
    problem: str | None = None  # the clip cannot be used: say why, and drop it
    warning: str | None = None  # it can be used, but a person should know


def check_reference(path: Path | str) -> ClipVerdict:
    """The verdict on a clip to clone, in plain sentences."""
    try:
        wave = read_clip(path, REFERENCE_CLIP)
    except InvalidAudio as err:
        if any(words in str(err) for words in _NOT_AUDIO):
            return ClipVerdict(problem="This file is not audio we can read. Upload a recording (wav, mp3, flac, "
                                       "ogg, m4a or webm) or record one.")
        return ClipVerdict(problem=str(err))
    seconds = len(wave) / SAMPLE_RATE
    if not len(wave) or float(np.max(np.abs(wave))) < 1e-3:
        return ClipVerdict(seconds, problem="This clip is silent: upload or record a few seconds of speech.")
    if seconds < MIN_USEFUL_S:
        return ClipVerdict(seconds, warning=f"The clip is only {seconds:.1f} s long: the clone will sound little "
                                            f"like the speaker. 5-15 s of clear speech works best.")
    if seconds > MAX_REFERENCE_S:
        return ClipVerdict(seconds, warning=f"The clip is longer than {MAX_REFERENCE_S:.0f} s: only its first "
                                            f"{MAX_REFERENCE_S:.0f} s are used. 5-15 s of clear speech works best.")
    return ClipVerdict(seconds)
