"""Studio.dialogue, in process on tiny-random: the dialogue goes through the service like a take (refused
while draining, stopped by its cancel event within a step, progress per turn and within it, saved with its
turns and subtitles). Before, the doors called the engine directly and none of this applied."""

from __future__ import annotations

import threading
import time

import pytest
import soundfile as sf

from inference.contract.errors import Cancelled, StudioError
from studio.dialogue import DialogueTake, TurnProgress
from studio.outcomes import Stopped
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.takes import TakeStore
from studio.voices import Voice

SCRIPT = "Alice: Hello Bob, how are you?\nBob: Fine, thanks."


@pytest.fixture
def studio(engine, tmp_path):
    return Studio(engine, takes=TakeStore(tmp_path))


def test_a_dialogue_is_refused_while_the_studio_drains(studio):
    request = studio.prepare(TakeRequest(SCRIPT, speakers={}, options={"max_new_tokens": 20}))
    studio.draining.set()  # what SIGTERM does (studio/drain.py)
    with pytest.raises(StudioError, match="shutting down and takes no new takes"):
        next(studio.dialogue(request))
    with pytest.raises(StudioError, match="shutting down and takes no new takes"):
        studio.dialogue_file(request)
    assert not studio.engine.status()["busy"]


def test_a_dialogue_streams_its_turns_with_progress_and_is_saved(studio):
    request = studio.prepare(TakeRequest(SCRIPT, speakers={"Alice": Voice("calm", description="calm, low voice")},
                                         seed=3, options={"max_new_tokens": 40, "pause_s": 0.2}))
    heard: list[str] = []
    items = list(studio.dialogue(request, on_progress=heard.append))
    *pieces, take = items
    assert isinstance(take, DialogueTake) and all(isinstance(p, bytes) for p in pieces)
    assert [label.split(" · ")[0] for label, _ in take.turns] == ["1", "2"]
    assert sorted(f.rsplit(".", 1)[1] for f in take.subtitle_files) == ["srt", "vtt"]
    assert sf.info(str(take.path)).duration == pytest.approx(take.result.duration_s)
    # "Turn i of n · s of audio": both turns, in order, and the seconds grow within a turn
    turns = [h.split(" · ")[0] for h in heard]
    assert turns[0] == "Turn 1 of 2" and turns[-1] == "Turn 2 of 2" and sorted(turns) == turns
    first = [float(h.split(" · ")[1].split(" s")[0]) for h in heard if h.startswith("Turn 1")]
    assert len(first) > 1 and first == sorted(first) and first[-1] > first[0]


def test_the_cancel_event_stops_a_dialogue_within_a_step(studio):
    request = studio.prepare(TakeRequest(SCRIPT, speakers={}, seed=1, options={"max_new_tokens": 3000}))  # minutes, if it ran on
    cancel = threading.Event()
    made = studio.dialogue(request, cancel=cancel)
    assert isinstance(next(made), bytes)  # under way
    cancel.set()
    started = time.monotonic()
    with pytest.raises(Stopped, match=r"Stopped in turn 1 of 2. The \d+\.\d s made so far are kept. The model is "
                                      "free") as stopped:
        for _ in made:
            pass
    assert time.monotonic() - started < 5
    part = stopped.value.part  # what was heard is kept (before: thrown away)
    assert part.path.is_file() and sf.info(str(part.path)).duration == pytest.approx(part.seconds, abs=0.06)
    assert not studio.engine.status()["busy"]
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(Cancelled):  # the whole-take form (the /dialogue API) stops the same way
        studio.dialogue_file(request, stopped)


def test_turn_progress_counts_seconds_within_the_turn():
    progress = TurnProgress()
    assert progress.add(1, 3, 0.5) == "Turn 1 of 3 · 0.5 s of audio"
    assert progress.add(1, 3, 1.0) == "Turn 1 of 3 · 1.5 s of audio"
    assert progress.add(2, 3, 0.3) == "Turn 2 of 3 · 0.3 s of audio"  # a new turn counts from zero
