"""The studio's training job: one run at a time in the background, paused while takes wait, stopped and resumed,
refused on ZeroGPU; transcripts corrected in the page's table reach the dataset."""

import json
import threading
import time

import pytest

from inference.contract.errors import InvalidRequest
from inference.training.data import read_metadata
from inference.training.options import TrainOptions
from studio.training import VoiceTraining
from tests.test_training_data import recording

OPTIONS = TrainOptions(steps=6, eval_every=3, held_out=1, rank=4, alpha=8, lr=3e-3)


class _Busy:
    """The real engine, reporting takes under way until `released` is set (to see training give way)."""

    def __init__(self, engine):
        self.engine, self.released = engine, threading.Event()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def status(self):
        return {**self.engine.status(), "busy": not self.released.is_set()}


@pytest.fixture
def prepared(engine, tmp_path):
    jobs = VoiceTraining(engine, tmp_path / "trained", min_total_s=5)
    found = jobs.prepare([recording(tmp_path)], "Ada")
    jobs.save_transcripts("Ada", [(file, f"Sentence number {i}.") for i, (file, _, _) in enumerate(found.rows)])
    return jobs


def _until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_run_trains_and_saves_the_voice_with_its_card(prepared):
    assert read_metadata(prepared.trained / "ada" / "dataset")[0][1] == "Sentence number 0."
    prepared.start("Ada", "Ada L.", True, OPTIONS)
    with pytest.raises(InvalidRequest, match="one run at a time"):
        prepared.start("Bob", "Bob", True, OPTIONS)
    state = prepared.wait(120)
    assert state.phase == "done", state.message
    assert [step for step, _ in state.losses] == list(range(1, 7)) and [s for s, _ in state.evals] == [3, 6]
    card = json.loads((prepared.trained / "ada" / "card.json").read_text())
    assert card["speaker"] == "Ada L." and card["consent"]["statement"].startswith("I am Ada L.")
    # another person's recordings under the same name would replace Ada's voice at every door: refused
    prepared.start("ada", "Someone Else", True, OPTIONS)
    state = prepared.wait(120)
    assert state.phase == "failed" and "already trained from Ada L.'s recordings" in state.message, state.message
    assert json.loads((prepared.trained / "ada" / "card.json").read_text()) == card


def test_training_waits_while_takes_are_made_then_stops_and_resumes(prepared, engine):
    prepared.engine = _Busy(engine)
    prepared.start("Ada", "Ada", True, TrainOptions(**{**OPTIONS.__dict__, "steps": 40}))
    _until(lambda: prepared.state.phase == "paused")
    assert prepared.state.step == 0  # takes first: not one step while they are under way
    prepared.engine.released.set()
    _until(lambda: prepared.state.step >= 4)
    prepared.stop()
    state = prepared.wait(120)
    assert state.phase == "stopped" and "Resume" in state.message and state.step < 40
    prepared.start("Ada", "Ada", True, TrainOptions(**{**OPTIONS.__dict__, "steps": 40}), resume=True)
    state = prepared.wait(300)
    assert state.phase == "done" and state.step == 40


def test_the_dataset_of_the_voice_being_trained_is_not_cut_again_or_rewritten(prepared, engine, tmp_path):
    # A second click of "Cut into clips" (or of Train, which saves the table first) under the same name used to
    # delete and rewrite the dataset the run was reading.
    rows = read_metadata(prepared.trained / "ada" / "dataset")
    prepared.engine = _Busy(engine)  # the run waits at step 0 while "takes" are under way
    prepared.start("Ada", "Ada", True, OPTIONS)
    _until(lambda: prepared.state.phase == "paused")
    with pytest.raises(InvalidRequest, match="'Ada' is being trained"):
        prepared.prepare([recording(tmp_path)], "ada")
    with pytest.raises(InvalidRequest, match="'Ada' is being trained"):
        prepared.save_transcripts("ADA", [(file, "other words") for file, _ in rows])
    assert read_metadata(prepared.trained / "ada" / "dataset") == rows
    prepared.stop()
    prepared.engine.released.set()
    assert prepared.wait(120).phase == "stopped"


def test_zerogpu_and_missing_consent_are_refused_with_a_sentence(engine, tmp_path):
    with pytest.raises(InvalidRequest, match="ZeroGPU Space lends one for seconds"):
        VoiceTraining(engine, tmp_path, zerogpu=True).start("Ada", "Ada", True, OPTIONS)
    with pytest.raises(InvalidRequest, match="Training keeps a voice"):
        VoiceTraining(engine, tmp_path).start("Ada", "Ada", False, OPTIONS)
    with pytest.raises(InvalidRequest, match="remote backend"):
        VoiceTraining(None, tmp_path).prepare([], "Ada")


def test_a_voice_trained_here_is_served_by_name_and_leaves_the_base_voice_alone(prepared, engine):
    """Training (branch of the studio) and serving (the engine's per-row LoRA) meet: the saved adapter is found by
    the resolver under its card's name, it changes the take, and the base take is the same before and after."""
    import numpy as np

    from inference import SynthesisRequest
    from inference.model.adapters import Adapters
    from studio.voices import VoiceResolver

    def take(**voice):
        return engine.synthesize(SynthesisRequest.parse(text="A trained voice speaks.", seed=4, max_new_tokens=24,
                                                        **voice)).waveform

    base = take()
    prepared.start("Ada", "Ada L.", True, OPTIONS)
    assert prepared.wait(120).phase == "done"
    voice = VoiceResolver(trained=prepared.trained).resolve("Ada")
    assert voice.adapter == "ada"
    kept, engine.adapters = engine.adapters, Adapters(prepared.trained, cap=2)
    try:
        trained = take(**voice.take_fields())
        assert not np.array_equal(trained, base), "the trained adapter did not change the take"
        assert np.array_equal(take(), base), "training or serving changed the base voice"
    finally:
        engine.adapters = kept
