"""The watermark: every take leaves the engine marked (whole and streamed), the detector finds it, plain
speech is not flagged, written files carry AI-generated tags, and a broken install fails loudly."""

import io
import subprocess

import av
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InvalidAudio, ModelLoadError, SynthesisRequest
from inference.audio import watermark
from inference.audio.codec import AI_TAGS, decode_audio, encode


def request(**fields):
    fields.setdefault("text", "Hello there, this is a marked take.")
    fields.setdefault("max_new_tokens", 60)
    return SynthesisRequest.parse(**fields)


def test_a_take_is_marked_and_its_unmarked_twin_is_not(engine):
    take = engine.synthesize(request(seed=5))
    assert engine.status()["watermark"] is True
    assert watermark.detect(take.waveform, take.sample_rate)["marked"]
    unmarked = next(c.result for c in Engine._run.__wrapped__(engine, request(seed=5), streaming=False))
    assert len(unmarked.waveform) == len(take.waveform)  # Perth's shorter output is padded back
    assert not np.array_equal(unmarked.waveform, take.waveform)
    assert not watermark.detect(unmarked.waveform, unmarked.sample_rate)["marked"]


def test_streamed_chunks_are_marked_and_add_up_to_the_take(engine):
    chunks = list(engine.stream(request(seed=6, max_new_tokens=90), first_chunk_frames=12, chunk_frames=25))
    final = chunks[-1].result
    # marked on the same grid as a whole take: the result is the whole take's, and the chunks (decoded
    # piecewise) add up to it as closely as unmarked chunks do
    assert np.array_equal(final.waveform, engine.synthesize(request(seed=6, max_new_tokens=90)).waveform)
    joined = np.concatenate([c.waveform for c in chunks])
    assert len(joined) == len(final.waveform) and np.abs(joined - final.waveform).max() < 1e-3 * np.abs(final.waveform).max()
    assert watermark.detect(final.waveform, final.sample_rate)["marked"]
    whole_second = next(c for c in chunks if len(c.waveform) >= 24_000)  # a 1 s chunk heard on its own
    assert watermark.detect(whole_second.waveform, whole_second.sample_rate)["marked"]


def test_mark_survives_mp3_and_plain_speech_is_not_flagged(speech_wav):
    speech = decode_audio(speech_wav)
    plain = watermark.detect(speech, 24_000)
    assert not plain["marked"] and plain["confidence"] < watermark.THRESHOLD
    marked = watermark.Watermarker(True).mark(speech, 24_000)
    assert len(marked) == len(speech)
    mp3 = encode(marked, "mp3")
    found = watermark.detect(mp3)  # bytes of a file, decoded like any upload
    assert found["marked"] and found["confidence"] > 0.9
    other_voice = subprocess.run(["espeak-ng", "-v", "en-us+f3", "-s", "170", "--stdout",
                                  "A second voice reads another sentence, with no mark at all."],
                                 check=True, capture_output=True).stdout
    assert not watermark.detect(other_voice)["marked"]


def test_the_operator_switch_is_logged_loudly_and_shows_in_status(caplog):
    import app

    assert not app.parse_args([], {"HVS_WATERMARK": "0"}).watermark and not app.parse_args(["--no-watermark"], {}).watermark
    assert app.parse_args([], {}).watermark
    with caplog.at_level("WARNING"):
        engine = Engine("tiny-random", watermark=False)  # built, not loaded
    assert "WATERMARK OFF" in caplog.text and engine.status()["watermark"] is False


def test_operator_switch_and_env():
    from settings import Settings

    assert Settings.from_env({}).watermark and Settings.from_env({"HVS_WATERMARK": "1"}).watermark
    assert not any(Settings.from_env({"HVS_WATERMARK": v}).watermark for v in ("0", "false", "OFF", "no"))
    wave = np.random.default_rng(0).normal(0, 0.1, 24_000).astype(np.float32)
    assert np.array_equal(watermark.Watermarker(False).mark(wave, 24_000), wave)
    assert SynthesisRequest.model_fields.keys().isdisjoint({"watermark", "no_watermark"})  # no request can turn it off


def test_broken_perth_install_fails_loudly(monkeypatch):
    """perth swallows its ImportError (pkg_resources gone with setuptools 81+) and exports None."""
    import perth

    monkeypatch.setattr(perth, "PerthImplicitWatermarker", None)
    monkeypatch.setattr(watermark, "_model", None)
    with pytest.raises(ModelLoadError, match="--no-watermark"):
        watermark.Watermarker(True)
    watermark.Watermarker(False)  # the operator may still start without it


@pytest.mark.parametrize("bad, message", [
    (b"", "empty"), (b"not audio at all" * 10, "Could not read"),
    (np.zeros(48_000, np.float32), "silent"), (np.ones(1_000, np.float32) * 0.1, "too short"),
])
def test_bad_clips_get_clear_errors(bad, message):
    with pytest.raises(InvalidAudio, match=message):
        watermark.detect(bad, 24_000 if isinstance(bad, np.ndarray) else None)


def test_written_takes_carry_ai_generated_tags():
    wave = np.random.default_rng(1).normal(0, 0.1, 24_000).astype(np.float32)
    wav = encode(wave, "wav")
    with sf.SoundFile(io.BytesIO(wav)) as f:
        assert (f.title, f.comment, f.samplerate) == (AI_TAGS["title"], AI_TAGS["comment"], 24_000)
        assert f.software.startswith(AI_TAGS["software"])
    with av.open(io.BytesIO(encode(wave, "mp3"))) as container:
        tags = container.metadata
    assert tags["title"] == AI_TAGS["title"] and "AI-generated" in tags["comment"]
    assert tags["encoded_by"] == AI_TAGS["software"]
