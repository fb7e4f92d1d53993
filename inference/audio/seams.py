"""Joining the parts of a take (long-text chunks, dialogue turns) without clicks.

Each part fades in and out over a few milliseconds, so a seam never jumps from one part's last
sample to the next part's first; dialogue turns are separated by a pause of silence. Fades touch
only a part's edges, which is what lets a stream send a part's audio while it is generated: the
start is faded as it goes out, the end is held back until the part is finished anyway.
"""

from __future__ import annotations

import numpy as np

from inference.contract.request import SAMPLE_RATE

FADE_S = 0.01  # 10 ms: below what the ear hears as a gap, long enough that no step is left


def _ramp(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)


def fade_in(waveform: np.ndarray, seconds: float = FADE_S) -> np.ndarray:
    n = min(int(seconds * SAMPLE_RATE), len(waveform))
    out = np.array(waveform, dtype=np.float32, copy=True)
    out[:n] *= _ramp(n)
    return out


def fade_out(waveform: np.ndarray, seconds: float = FADE_S) -> np.ndarray:
    n = min(int(seconds * SAMPLE_RATE), len(waveform))
    out = np.array(waveform, dtype=np.float32, copy=True)
    if n:
        out[-n:] *= _ramp(n)[::-1]
    return out


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)


def splice(pieces: list[np.ndarray], pause: np.ndarray, waveform: np.ndarray) -> tuple[int, np.ndarray]:
    """Appends the pause and the part (faded in and out) to a take's pieces: the one rule by which a take is
    made and a recipe is rendered. Returns (the part's first sample in the take, the faded part)."""
    start = sum(map(len, pieces)) + len(pause)
    shaped = fade_out(fade_in(waveform))
    pieces += [pause, shaped]
    return start, shaped
