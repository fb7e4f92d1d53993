"""Check a clip reports both signals (inference/audio/provenance.py): the watermark and the file's own label.
Before, a take from this studio (tagged "AI-generated speech ... Higgs Voice Studio") got the same verdict as an
unmarked recording, and a clip too quiet for the mark was not said to be."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from inference.audio.codec import encode
from inference.audio.provenance import check_clip, file_label, loudness_dbfs
from ui.check_tab import verdict


def _noise(loud: float) -> np.ndarray:
    return np.random.default_rng(3).normal(0, loud, 48_000).astype(np.float32)


def test_a_studio_take_is_labelled_and_a_quiet_one_is_said_to_be(tmp_path):
    take = tmp_path / "take.mp3"
    take.write_bytes(encode(_noise(0.01), "mp3"))  # about -40 dBFS, like tiny-random's takes
    found = check_clip(take)
    assert "AI-generated speech" in found["label"] and "Higgs Voice Studio" in found["label"]
    assert found["quiet"] and found["loudness_dbfs"] < -30
    shown = verdict(found)
    assert "labels itself as AI-generated" in shown and "very quiet" in shown


def test_a_plain_recording_has_no_label(tmp_path, speech_wav):
    assert file_label(speech_wav) is None
    plain = tmp_path / "plain.wav"
    sf.write(plain, _noise(0.2), 24_000)
    found = check_clip(plain)
    assert found["label"] is None and not found["quiet"]
    assert "carries no AI-generated label" in verdict(found) and "very quiet" not in verdict(found)
    assert loudness_dbfs(np.full(100, 0.1, np.float32)) == -20.0
