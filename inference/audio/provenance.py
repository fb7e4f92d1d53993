"""Where a clip came from, by two signals: the inaudible watermark (inference/audio/watermark.py) and the file's
own label (the tags every take of this studio carries: WAV LIST/INFO, MP3 ID3, see codec.AI_TAGS). A label is
easy to strip and the mark is hard to remove, so each says something the other does not. Also: whether the clip
is loud enough for the mark to be found at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.audio.incoming import check_size, read_clip
from inference.audio.watermark import CLIP_TO_CHECK, DETECT_RATE, detect

QUIET_DBFS = -30.0  # below this loudness (RMS) the mark is rarely found, even in a marked take
_AI_WORDS = ("ai-generated", "synthetic speech", "higgs voice studio")
_LABEL_KEYS = ("title", "comment", "encoded_by", "encoder", "artist", "software")


def file_label(source: Path | str) -> str | None:
    """The file's own tag text that says the audio is AI-generated, or None. Reads the header only."""
    import av

    check_size(Path(source).stat().st_size, CLIP_TO_CHECK)
    try:
        with av.open(str(source), mode="r", metadata_errors="ignore") as container:
            tags = {key.lower(): str(value) for key, value in container.metadata.items()}
    except (av.FFmpegError, ValueError, OSError):
        return None
    found = [tags[key] for key in _LABEL_KEYS if any(word in tags.get(key, "").lower() for word in _AI_WORDS)]
    return " · ".join(dict.fromkeys(found)) or None


def loudness_dbfs(wave: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) if len(wave) else 0.0
    return round(20 * np.log10(max(rms, 1e-9)), 1)


def check_clip(source: Path | str) -> dict:
    """{"marked", "confidence", "label", "loudness_dbfs", "quiet"} for a file. Raises InvalidAudio for a bad one."""
    wave = read_clip(source, CLIP_TO_CHECK, DETECT_RATE)
    found = detect(wave, DETECT_RATE)
    loudness = loudness_dbfs(wave)
    return {**found, "label": file_label(source), "loudness_dbfs": loudness, "quiet": loudness < QUIET_DBFS}
