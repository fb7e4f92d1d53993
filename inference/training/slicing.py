"""Long recordings -> clips of 3-15 s, cut at pauses found by Silero VAD (the `silero-vad` package ships its
model as TorchScript in the wheel: it works offline and needs only torch).

Speech segments come from the VAD; a segment is joined to the clip before it while that clip is still shorter
than the minimum and the two fit under the maximum, so clips end at pauses. Speech longer than the maximum is
split by the VAD itself at its best inner pause (max_speech_duration_s)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

VAD_RATE = 16_000  # Silero VAD reads 8 or 16 kHz
_vad_lock = threading.Lock()
_vad_model = None


@dataclass(frozen=True)
class Slicing:
    min_s: float = 3.0
    max_s: float = 15.0
    min_pause_ms: int = 300  # a silence at least this long may end a clip
    pad_ms: int = 100  # kept either side of the speech


def speech_spans(wave_16k: np.ndarray, slicing: Slicing) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in a 16 kHz recording."""
    import torch
    from silero_vad import get_speech_timestamps

    with _vad_lock:  # the TorchScript model keeps state between calls: one caller at a time
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(wave_16k, dtype=np.float32)), _vad(), sampling_rate=VAD_RATE,
            min_silence_duration_ms=slicing.min_pause_ms, speech_pad_ms=slicing.pad_ms,
            max_speech_duration_s=slicing.max_s, return_seconds=False)
    return [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in stamps]


def clip_spans(spans: list[tuple[float, float]], slicing: Slicing) -> list[tuple[float, float]]:
    """Speech spans -> clip spans of min_s..max_s seconds, each ending at a pause; a short rest is left out."""
    clips: list[list[float]] = []
    for start, end in spans:
        if clips and clips[-1][1] - clips[-1][0] < slicing.min_s and end - clips[-1][0] <= slicing.max_s:
            clips[-1][1] = end
        else:
            clips.append([start, end])
    if len(clips) > 1 and clips[-1][1] - clips[-1][0] < slicing.min_s and clips[-1][1] - clips[-2][0] <= slicing.max_s:
        rest = clips.pop()
        clips[-1][1] = rest[1]
    return [(a, b) for a, b in clips if slicing.min_s <= b - a <= slicing.max_s]


def _vad():
    global _vad_model
    if _vad_model is None:
        from silero_vad import load_silero_vad

        _vad_model = load_silero_vad()
    return _vad_model
