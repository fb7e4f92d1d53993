"""Studio.generate stopped by its cancel event, in process on tiny-random: the audio streamed before Stop is
kept as a take (saved, in the visitor's history, labelled with the second it stopped at). Before, Stop threw
the part away."""

from __future__ import annotations

import threading

import pytest
import soundfile as sf

from inference.audio.codec import AI_TAGS
from studio.outcomes import Stopped
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.takes import TakeStore


@pytest.fixture
def studio(engine, tmp_path):
    return Studio(engine, takes=TakeStore(tmp_path))


def test_a_stopped_take_keeps_the_part_it_made(studio):
    request = studio.prepare(TakeRequest("A long take that will be stopped.", seed=5, options={"max_new_tokens": 3000}))
    cancel = threading.Event()
    made = studio.generate(request, "Smart voice", [{"path": "gone.wav"}], cancel=cancel)
    streamed = [next(made), next(made)]  # two pieces of audio under way
    assert all(isinstance(piece, bytes) for piece in streamed)
    cancel.set()
    with pytest.raises(Stopped, match=r"Stopped at \d+\.\d s of audio. The part made so far is kept") as stopped:
        for _ in made:
            pass
    part = stopped.value.part
    assert part is not None and part.path.is_file() and part.seconds > 0
    with sf.SoundFile(str(part.path)) as f:
        assert f.frames / f.samplerate == pytest.approx(part.seconds, abs=0.06)
        assert f.title == AI_TAGS["title"]  # tagged like every take
    [entry] = part.history  # the pruned entry went, the part came in first
    assert entry["path"] == str(part.path) and entry["stopped_at"] == part.seconds and entry["seed"] == 5
    assert not studio.engine.status()["busy"]


def test_a_take_stopped_before_any_audio_keeps_nothing(studio):
    request = studio.prepare(TakeRequest("Stopped at once.", seed=5, options={"max_new_tokens": 3000}))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Stopped) as stopped:
        next(studio.generate(request, "Smart voice", [], cancel=cancel))
    assert stopped.value.part is None
