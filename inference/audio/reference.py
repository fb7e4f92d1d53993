"""Reference voice preparation: decode, check, trim silence, cap the length at a pause."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.audio.incoming import ClipLimits, read_clip
from inference.contract.errors import InvalidAudio
from inference.contract.request import SAMPLE_RATE

MIN_SPEECH_S = 1.0
MAX_REFERENCE_S = 30.0  # longer clips are cut at the quietest pause before this point
READ_S = 2 * MAX_REFERENCE_S  # no more of a clip is decoded: room for leading silence, then 30 s are kept
_FRAME_S = 0.02
_SILENCE_DB = -40.0  # a frame this far below the loudest frame counts as silence
_SILENT_PEAK = 1e-3  # a clip whose loudest sample stays below -60 dBFS is treated as silent
_KEEP_S = 0.1  # keep a little room tone around the speech
_PAUSE_SEARCH_S = 5.0
REFERENCE_CLIP = ClipLimits("The reference clip", READ_S, keep_start=True)


@dataclass
class PreparedReference:
    waveform: np.ndarray  # mono float32, 24 kHz, trimmed
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / SAMPLE_RATE


def prepare_reference(source: Path | bytes) -> PreparedReference:
    wave = read_clip(source, REFERENCE_CLIP, SAMPLE_RATE)
    return prepare_waveform(wave, cut_short=len(wave) >= int(READ_S * SAMPLE_RATE))


def prepare_waveform(wave: np.ndarray, cut_short: bool = False) -> PreparedReference:
    """Checks and trims a decoded mono 24 kHz clip. Raises InvalidAudio with a reason a person can act on."""
    if not np.all(np.isfinite(wave)):
        raise InvalidAudio("The reference audio is corrupt: it contains invalid (NaN or infinite) samples.")
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak < _SILENT_PEAK:
        raise InvalidAudio("The reference audio is silent. Record again closer to the microphone.")

    frame = int(_FRAME_S * SAMPLE_RATE)
    n_frames = len(wave) // frame
    energy_db = _frame_db(wave[: n_frames * frame].reshape(n_frames, frame)) if n_frames else np.array([])
    voiced = np.flatnonzero(energy_db > energy_db.max() + _SILENCE_DB) if n_frames else np.array([], int)
    if voiced.size == 0:
        raise InvalidAudio("The reference audio is silent. Record again closer to the microphone.")

    keep = int(_KEEP_S / _FRAME_S)
    start = max(voiced[0] - keep, 0) * frame
    end = min((voiced[-1] + 1 + keep) * frame, len(wave))
    trimmed = wave[start:end]
    speech_s = voiced.size * _FRAME_S
    if speech_s < MIN_SPEECH_S:
        raise InvalidAudio(
            f"The reference has only {speech_s:.1f} s of speech; at least {MIN_SPEECH_S:.0f} s is needed "
            "(5-15 s works best)."
        )

    warnings = []
    if cut_short and len(trimmed) <= int(MAX_REFERENCE_S * SAMPLE_RATE):  # speech at the start, then only silence read
        warnings.append(f"The reference file is longer than {READ_S:.0f} s; only its first {READ_S:.0f} s were "
                        "read. Make sure the transcript matches the part kept.")
    limit = int(MAX_REFERENCE_S * SAMPLE_RATE)
    if len(trimmed) > limit:
        cut = _quietest_point(trimmed, limit, frame)
        length = f"over {READ_S:.0f} s" if cut_short else f"{len(trimmed) / SAMPLE_RATE:.1f} s"
        warnings.append(
            f"The reference was {length} long; only its first {cut / SAMPLE_RATE:.1f} s "
            f"(cut at a pause) are used. References up to {MAX_REFERENCE_S:.0f} s are used whole; "
            "make sure the transcript matches the part kept."
        )
        trimmed = trimmed[:cut]
    return PreparedReference(np.ascontiguousarray(trimmed, dtype=np.float32), warnings)


def _frame_db(frames: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-10)


def _quietest_point(wave: np.ndarray, limit: int, frame: int) -> int:
    """Sample index in the middle of the longest quiet stretch in the last few seconds before `limit`."""
    lo = max(limit - int(_PAUSE_SEARCH_S * SAMPLE_RATE), 0)
    window = wave[lo:limit]
    n = len(window) // frame
    db = _frame_db(window[: n * frame].reshape(n, frame))
    quiet = db <= db.min() + 6.0
    best_start, best_len, run_start = 0, 0, None
    for i, is_quiet in enumerate([*quiet, False]):
        if is_quiet and run_start is None:
            run_start = i
        elif not is_quiet and run_start is not None:
            if i - run_start >= best_len:
                best_start, best_len = run_start, i - run_start
            run_start = None
    return lo + (best_start + best_len // 2) * frame
