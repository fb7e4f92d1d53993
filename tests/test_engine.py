"""The engine end to end on the tiny random-weight checkpoint (real transformers code paths, CPU)."""

import threading

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InvalidAudio, InvalidRequest, ModelLoadError, SynthesisRequest
from inference.audio.codec import encode_wav
from inference.contract.engine import NOISE_WARNING


def request(**fields):
    fields.setdefault("text", "Hello there, this is a test.")
    fields.setdefault("max_new_tokens", 40)
    return SynthesisRequest.parse(**fields)


def test_reference_wav_to_24k_output_wav(engine, speech_wav, output_dir):
    result = engine.synthesize(request(reference_audio=speech_wav, reference_text="Hello, this is my voice.",
                                       scene="Audio is recorded from a quiet room.", seed=7))
    assert result.sample_rate == 24_000
    assert result.waveform.dtype == np.float32 and result.waveform.ndim == 1
    # 40 steps = 1 stream-BOS row + 7 delay rows + 32 frames of 960 samples
    assert len(result.waveform) == 32 * 960
    assert np.isfinite(result.waveform).all() and np.abs(result.waveform).max() <= 1.0
    assert np.abs(result.waveform).max() > 0
    assert result.seed == 7 and result.model_id == "tiny-random"
    t = result.timings
    assert t.generate_s > 0 and t.audio_s == pytest.approx(1.28) and t.real_time_factor > 0
    assert NOISE_WARNING in result.warnings
    assert "<|AUDIO_OUT|>" in result.prompt and "quiet room" in result.prompt
    out = output_dir / "take.wav"
    out.write_bytes(encode_wav(result.waveform))
    data, rate = sf.read(out)
    assert rate == 24_000 and len(data) == len(result.waveform)


def test_same_seed_same_waveform_other_seed_other_waveform(engine):
    first = engine.synthesize(request(seed=123))
    again = engine.synthesize(request(seed=123))
    other = engine.synthesize(request(seed=124))
    assert np.array_equal(first.waveform, again.waveform)
    assert not np.array_equal(first.waveform, other.waveform)


def test_seed_is_drawn_and_reported_when_not_given(engine):
    result = engine.synthesize(request())
    replay = engine.synthesize(request(seed=result.seed))
    assert np.array_equal(result.waveform, replay.waveform)


def test_greedy_decoding_is_deterministic_without_a_seed(engine):
    a = engine.synthesize(request(temperature=0))
    b = engine.synthesize(request(temperature=0))
    assert np.array_equal(a.waveform, b.waveform) and a.seed != b.seed


def test_sampling_options_reach_the_model(engine):
    # A strict repetition rule (one repeat in 7 frames triggers a resample) must change the take.
    base = engine.synthesize(request(seed=5, max_new_tokens=60, ras_max_repeats=1))
    no_ras = engine.synthesize(request(seed=5, max_new_tokens=60, ras_win_len=0))
    narrow = engine.synthesize(request(seed=5, max_new_tokens=60, top_k=1))
    assert not np.array_equal(base.waveform, no_ras.waveform)
    assert not np.array_equal(base.waveform, narrow.waveform)
    assert len(engine.synthesize(request(seed=5, max_new_tokens=20)).waveform) == 12 * 960


def test_threads_at_once_never_mix_outputs(engine):
    seeds = [11, 12, 13, 14]
    texts = {s: f"Speaker number {s} says hello." for s in seeds}
    expected = {s: engine.synthesize(request(text=texts[s], seed=s)).waveform for s in seeds}
    results, errors = {}, []

    def work(seed):
        try:
            results[seed] = engine.synthesize(request(text=texts[seed], seed=seed)).waveform
        except Exception as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for seed in seeds:
        assert np.array_equal(results[seed], expected[seed])


def test_stream_chunks_add_up_to_the_take(engine):
    chunks = list(engine.stream(request(seed=9, max_new_tokens=120), first_chunk_frames=12, chunk_frames=25))
    final = chunks[-1].result
    assert final is not None and all(c.result is None for c in chunks[:-1])
    assert len(chunks) >= 4
    assert len(chunks[0].waveform) == 12 * 960  # first audio after ~0.5 s of speech
    joined = np.concatenate([c.waveform for c in chunks])
    assert len(joined) == len(final.waveform)
    # Identical to a non-streamed take with the same seed (the watermark marks both on one grid), and the
    # chunks match it sample for sample up to float rounding (windows are decoded with left context and
    # held-back right context).
    assert np.array_equal(final.waveform, engine.synthesize(request(seed=9, max_new_tokens=120)).waveform)
    assert np.abs(joined - final.waveform).max() < 1e-3 * np.abs(final.waveform).max()


def test_a_stream_waiting_for_its_turn_carries_only_its_own_frames(engine):
    # Another visitor's long take holds the model while this stream waits; none of its frames may leak in.
    other = threading.Thread(target=engine.synthesize, args=(request(seed=3, max_new_tokens=300),))
    other.start()
    try:
        for _ in range(500):  # bounded: until the other take is generating
            if engine.status()["busy"]:
                break
            threading.Event().wait(0.01)
        chunks = list(engine.stream(request(seed=4, max_new_tokens=60)))
    finally:
        other.join(timeout=120)
    final = chunks[-1].result
    joined = np.concatenate([c.waveform for c in chunks])
    assert len(joined) == len(final.waveform) == 52 * 960
    assert np.abs(joined - final.waveform).max() < 1e-3 * np.abs(final.waveform).max()


def test_stopping_a_stream_early_frees_the_engine(engine):
    stream = engine.stream(request(seed=1, max_new_tokens=2000))
    first = next(stream)
    assert len(first.waveform) > 0
    stream.close()  # the visitor went away
    assert not engine.status()["busy"]
    assert len(engine.synthesize(request(seed=1, max_new_tokens=20)).waveform) == 12 * 960


def test_bad_inputs_raise_clear_errors_and_the_engine_keeps_working(engine, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(48_000, np.float32), 24_000)
    with pytest.raises(InvalidAudio, match="silent"):
        engine.synthesize(request(reference_audio=silent, reference_text="..."))
    with pytest.raises(InvalidAudio, match="not a supported audio format"):
        engine.synthesize(request(reference_audio=b"definitely not audio"))
    with pytest.raises(InvalidRequest, match="no text to speak"):
        engine.synthesize(request(text="( ) ..."))
    assert engine.synthesize(request(seed=2, max_new_tokens=20)).sample_rate == 24_000


def test_status_reports_model_and_state(engine):
    status = engine.status()
    assert status["model"] == "tiny-random" and status["loaded"] and status["device"] == "cpu"
    assert status["dtype"] == "float32" and status["noise"] is True and status["busy"] is False


def test_warm_up_marks_the_engine_warmed():
    fresh = Engine("tiny-random")
    assert not fresh.status()["loaded"]
    fresh.load().warm_up()
    assert fresh.status()["warmed"] and fresh.status()["loaded"]


def test_unknown_model_fails_with_a_hint():
    with pytest.raises(ModelLoadError, match="tiny-random"):
        Engine("no-such-org/no-such-model").load()
    with pytest.raises(ModelLoadError, match="no checkpoint directory"):
        Engine("./missing/checkpoint").load()


def test_a_cancel_event_stops_a_take_and_frees_the_model(engine):
    """Every door passes a per-take event; setting it stops synthesize and stream within a step."""
    from inference.contract.errors import Cancelled

    request = SynthesisRequest.parse(text="A long take nobody waits for.", max_new_tokens=4096, seed=1)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(Cancelled):
        engine.synthesize(request, cancel=cancel)
    assert engine.status()["busy"] is False and engine.status()["pending"] == 0
    cancel = threading.Event()
    stream = engine.stream(request, first_chunk_frames=2, chunk_frames=2, cancel=cancel)
    next(stream)
    cancel.set()
    with pytest.raises(Cancelled):
        list(stream)
    assert engine.status()["busy"] is False
