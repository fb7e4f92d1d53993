"""Take check (words by Whisper + jiwer, voice by WavLM x-vectors) and best of N, on tiny random-weight
scoring models built in the test: the scores mean nothing, the plumbing, the choice and the errors are real."""

import numpy as np
import pytest

from inference import InvalidRequest, StudioError, SynthesisRequest
from inference.scoring.take_check import SpeakerEncoder, TakeChecker, spoken_words, word_errors
from inference.scoring.transcribe import Transcriber
from studio.best_of import candidate_seeds, make_takes
from tests.conftest import OUTPUT
from tests.tiny_speaker import build_tiny_speaker_model
from tests.tiny_whisper import build_tiny_whisper


@pytest.fixture(scope="module")
def checker():
    whisper = build_tiny_whisper(OUTPUT / "cache" / "tiny-whisper-v1")
    speaker = build_tiny_speaker_model(OUTPUT / "cache" / "tiny-speaker-v1")
    return TakeChecker(Transcriber(str(whisper)), SpeakerEncoder(str(speaker)))


def test_word_errors_use_asr_normalization_and_name_missed_and_added_words():
    wer, missed, added = word_errors("Hello there, it's a test of words.", "hello THERE it is a test words!")
    assert (wer, missed, added) == (pytest.approx(1 / 8), ["of"], [])
    assert word_errors("One, two; three.", "one two three four") == (pytest.approx(1 / 3), [], ["four"])
    assert word_errors("Hello there.", "") == (1.0, ["hello", "there"], [])
    assert spoken_words("[laugh] Hi [music start] you [SPEAKER1] there") == "Hi you there"


def test_a_take_is_scored_for_words_and_voice(engine, checker, speech_wav):
    request = SynthesisRequest.parse(text="Hello there [laugh], a short take.", reference_audio=speech_wav,
                                     reference_text="Hello, this is my voice.", max_new_tokens=30, seed=3)
    result = engine.synthesize(request)
    score = checker.check(request.text, result.waveform, result.sample_rate, result.seed, speech_wav)
    assert isinstance(score.heard, str) and 0.0 <= score.words_right <= 1.0
    assert score.word_error_rate == pytest.approx(word_errors("Hello there , a short take.", score.heard)[0])
    assert -1.0 <= score.voice_similarity <= 1.0 and score.notes == []
    assert score.summary() == f"words {score.words_right:.0%} right, voice similarity {score.voice_similarity:.2f}"
    same = checker.speaker.embed(np.asarray(result.waveform[::3][:16000], dtype=np.float32))
    assert float(np.dot(same, same)) == pytest.approx(1.0, abs=1e-5)  # unit vectors: cosine is a dot product


def test_best_of_n_keeps_the_best_scored_take_and_lists_all(engine, checker, speech_wav):
    request = SynthesisRequest.parse(text="Pick the best one.", reference_audio=speech_wav, max_new_tokens=20,
                                     seed=11, candidates=3)
    takes = make_takes(engine, request, checker)
    seeds = candidate_seeds(11, 3)
    assert seeds[0] == 11 and len(set(seeds)) == 3
    assert [s.seed for s in takes.scores] == seeds
    assert takes.best == min(range(3), key=lambda i: takes.scores[i].rank())
    assert takes.result.seed == seeds[takes.best]
    replay = engine.synthesize(request.model_copy(update={"seed": seeds[takes.best], "candidates": 1}))
    assert np.array_equal(replay.waveform, takes.result.waveform)  # the kept take is that seed's take
    report = takes.report()
    assert report["kept_seed"] == takes.result.seed and sum(c["kept"] for c in report["candidates"]) == 1
    assert all({"words_right", "voice_similarity", "missed", "added", "seed"} <= set(c) for c in report["candidates"])


def test_rank_prefers_fewer_word_errors_then_higher_similarity():
    from inference.scoring.take_check import TakeScore

    scores = [TakeScore(1, word_error_rate=0.2, voice_similarity=0.9),
              TakeScore(2, word_error_rate=0.1, voice_similarity=0.3),
              TakeScore(3, word_error_rate=0.1, voice_similarity=0.5)]
    assert min(scores, key=TakeScore.rank).seed == 3


def test_one_take_without_check_is_the_plain_take_and_errors_are_clear(engine, speech_wav):
    request = SynthesisRequest.parse(text="Just once.", max_new_tokens=12, seed=5)
    takes = make_takes(engine, request)
    assert takes.scores == [None] and takes.result.seed == 5
    with pytest.raises(StudioError, match="Best of 2 needs the take check"):
        make_takes(engine, request.model_copy(update={"candidates": 2}), TakeChecker(None, None))
    for bad, message in ((0, "at least 1"), (5, "at most 4"), (True, "must be a number"), (1.5, "whole number")):
        with pytest.raises(InvalidRequest, match=message):
            SynthesisRequest.parse(text="Hi.", candidates=bad)


def test_a_scoring_model_that_cannot_load_leaves_a_note(engine, checker, speech_wav):
    broken = TakeChecker(checker.transcriber, SpeakerEncoder("/nowhere/speaker-model"))
    result = engine.synthesize(SynthesisRequest.parse(text="Still scored.", max_new_tokens=12, seed=2))
    score = broken.check("Still scored.", result.waveform, result.sample_rate, 2, speech_wav)
    assert score.words_right is not None and score.voice_similarity is None
    assert any("speaker model" in note and "--speaker-model" in note for note in score.notes)
    assert score.summary().startswith("words ")
