"""Every clip that comes in from outside (a reference, a clip to check, a saved voice coming back from a
browser) is read through `read_clip`, with the limits of what it is for: at most so many bytes of file,
checked before anything is decoded, and at most so many seconds of audio, where decoding stops. Past the
seconds, a reference keeps its start (only 30 s of it are used); a clip to check or a saved voice is
refused. So the work a clip can cost is bounded by its purpose, not by what the sender chose to send
(a 7 MB file of 10 minutes cost /detect 24.5 s of CPU; a saved voice of 10 minutes wrote 27 MB to the
server's temp folder). Each refusal is a sentence that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.audio.codec import MAX_UPLOAD_BYTES, decode_audio
from inference.contract.errors import InvalidAudio
from inference.contract.request import SAMPLE_RATE

_SLACK_S = 0.5  # decoded past a refusing limit: a clip that fills it is longer than the limit


@dataclass(frozen=True)
class ClipLimits:
    """What may come in for one purpose. `name` starts the sentence of a refusal ("The clip to check")."""

    name: str
    max_seconds: float
    max_bytes: int = MAX_UPLOAD_BYTES
    keep_start: bool = False  # longer clips: keep their first max_seconds (True) or refuse them (False)
    advice: str = ""  # what to do instead, after a refusal


def read_clip(source: Path | str | bytes, limits: ClipLimits, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A clip (a file path or its bytes) -> mono float32 at `sample_rate`, within `limits`. Raises InvalidAudio."""
    source = Path(source) if isinstance(source, str) else source
    try:
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
    except OSError:
        raise InvalidAudio(f"{limits.name} could not be read: the file is missing.") from None
    check_size(size, limits)
    if limits.keep_start:
        return decode_audio(source, sample_rate, max_seconds=limits.max_seconds)
    wave = decode_audio(source, sample_rate, max_seconds=limits.max_seconds + _SLACK_S)
    if len(wave) > limits.max_seconds * sample_rate:
        raise InvalidAudio(_sentence(f"{limits.name} is longer than {_duration(limits.max_seconds)}, the limit "
                                     "here.", limits.advice))
    return wave


def check_size(size: int, limits: ClipLimits) -> None:
    """Refuse a clip of `size` bytes over the limit (also before its bytes are unpacked, e.g. from base64)."""
    if size > limits.max_bytes:
        raise InvalidAudio(_sentence(f"{limits.name} is {_mb(size)}; the limit is {_mb(limits.max_bytes)}.",
                                     limits.advice))


def _sentence(what: str, advice: str) -> str:
    return f"{what} {advice}".strip()


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    return f"{seconds:g} s"
