"""A reference clip is checked when it arrives (studio/clip_check.py): a file that is not audio gets one plain
sentence, a short or long clip a warning, a good clip nothing. Before, a bad file was only found at Generate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from inference.contract.errors import InvalidRequest
from studio.clip_check import check_reference
from studio.take_request import TakeRequest, engine_request
from studio.voices import VoiceResolver


def _wav(tmp_path, seconds: float, loud: float = 0.3):
    path = tmp_path / f"clip-{seconds}.wav"
    t = np.arange(int(seconds * 16_000)) / 16_000
    sf.write(path, (loud * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000)
    return path


def test_a_text_file_renamed_wav_is_not_audio(tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("Dear diary, today I renamed a text file.")
    verdict = check_reference(fake)
    assert verdict.problem.startswith("This file is not audio we can read.") and verdict.seconds is None


@pytest.mark.parametrize(("seconds", "words"), [(1.5, "only 1.5 s long"), (40, "only its first 30 s are used")])
def test_short_and_long_clips_are_warned_about(tmp_path, seconds, words):
    verdict = check_reference(_wav(tmp_path, seconds))
    assert verdict.problem is None and words in verdict.warning


def test_a_good_clip_passes_and_a_silent_one_does_not(tmp_path):
    good = check_reference(_wav(tmp_path, 6))
    assert (good.problem, good.warning) == (None, None) and good.seconds == pytest.approx(6, abs=0.05)
    assert "silent" in check_reference(_wav(tmp_path, 5, loud=0.0)).problem


def test_an_empty_dialogue_script_is_called_a_script():
    with pytest.raises(InvalidRequest, match="There is no script to speak"):
        engine_request(TakeRequest("  ", speakers={}), VoiceResolver())
