"""Every clip that comes in is read within the limits of its purpose (issue 19, hole 3): /detect, the worker's
detect job and a saved voice coming back from the browser refuse an over-long or over-large clip quickly, with a
sentence, through the one helper inference/audio/incoming.py (the reference clip's bounded decode)."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
import soundfile as sf

from inference.audio.incoming import ClipLimits, read_clip
from inference.contract.errors import InvalidAudio
from serverless.handler import Worker
from ui import library
from ui.check_tab import check_clip

LONG_CHECK = "The clip to check is longer than 3 minutes, the limit here. Check an excerpt of up to 3 minutes"


def tone_flac(seconds: float, rate: int = 8_000) -> bytes:
    """A quiet tone as FLAC: minutes of audio in a small file (what an attacker sends)."""
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, format="FLAC")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ten_minutes() -> bytes:
    return tone_flac(600)


def test_detect_refuses_a_clip_over_three_minutes_quickly(ten_minutes, tmp_path):
    # Before: the whole clip was decoded and checked (a 7 MB file: 24.5 s of CPU).
    path = tmp_path / "long.flac"
    path.write_bytes(ten_minutes)
    started = time.perf_counter()
    with pytest.raises(InvalidAudio) as refused:
        check_clip(str(path))
    assert time.perf_counter() - started < 3
    assert str(refused.value).startswith(LONG_CHECK)


def test_the_worker_refuses_a_detect_job_over_three_minutes_quickly(ten_minutes):
    # Before: 15.5 s of work for such a job.
    started = time.perf_counter()
    (item,) = Worker(None).run({"id": "d", "input": {"detect": base64.b64encode(ten_minutes).decode()}})
    assert time.perf_counter() - started < 3
    assert item["error_type"] == "invalid_request" and item["error"].startswith(LONG_CHECK)


def test_a_saved_voice_over_its_limits_is_refused_before_anything_is_written(tmp_path):
    # An entry comes back from the browser, where anyone can change it. Before: up to 10 minutes were decoded
    # (4.4 s) and written to the server's temp folder (27 MB); here 2 minutes in a 0.5 MB file.
    entry = {"name": "Long", "transcript": "", "audio": base64.b64encode(tone_flac(120)).decode()}
    started = time.perf_counter()
    with pytest.raises(InvalidAudio, match=r"^This saved voice is longer than 16 s, the limit here\. This studio "
                                           r"saves voices of at most 15 s: delete it from your library"):
        library.to_file(entry, tmp_path)
    assert time.perf_counter() - started < 2
    big = {**entry, "audio": base64.b64encode(bytes(3 * 2**20)).decode()}
    with pytest.raises(InvalidAudio, match=r"^This saved voice is 3 MB; the limit is 2 MB\."):
        library.to_file(big, tmp_path)
    with pytest.raises(InvalidAudio, match="damaged"):
        library.to_file({**entry, "audio": "%%%"}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_saved_voice_at_its_limit_still_comes_back(tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, (0.3 * np.sin(np.arange(20 * 24_000) / 10)).astype(np.float32), 24_000)
    entry = library.make_entry(clip, "Full", "")  # the first 15 s are saved
    wave, rate = sf.read(library.to_file(entry, tmp_path / "out"))
    assert rate == 24_000 and abs(len(wave) / rate - 15) < 0.1


def test_one_helper_cuts_or_refuses_by_purpose(ten_minutes):
    kept = read_clip(ten_minutes, ClipLimits("The reference clip", 60, keep_start=True))
    assert len(kept) == 60 * 24_000  # a reference keeps its start
    with pytest.raises(InvalidAudio, match=r"^The clip is 1\.5 MB; the limit is 1 MB\. Send less\.$"):
        read_clip(bytes(3 * 2**19), ClipLimits("The clip", 10, max_bytes=2**20, advice="Send less."))
    short = read_clip(tone_flac(9.9), ClipLimits("The clip", 10))
    assert abs(len(short) - 9.9 * 24_000) < 10  # under the limit: whole
