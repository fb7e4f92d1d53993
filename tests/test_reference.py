"""Reference preparation: every common container, rate and channel count; each bad input refused clearly."""

import subprocess

import numpy as np
import pytest
import soundfile as sf

from inference.audio.codec import decode_audio, encode_mp3, encode_wav
from inference.audio.reference import MAX_REFERENCE_S, prepare_reference
from inference.contract.errors import InvalidAudio
from inference.contract.request import SAMPLE_RATE


def ffmpeg(src, dst, *args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


def speech_seconds(path) -> float:
    return len(decode_audio(path)) / SAMPLE_RATE


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("pcm16_48k_stereo.wav", ["-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le"]),
        ("pcm24_44k.wav", ["-ar", "44100", "-c:a", "pcm_s24le"]),
        ("pcm32.wav", ["-c:a", "pcm_s32le"]),
        ("float32_16k.wav", ["-ar", "16000", "-c:a", "pcm_f32le"]),
        ("u8_8k.wav", ["-ar", "8000", "-c:a", "pcm_u8"]),
        ("clip.flac", ["-ar", "44100"]),
        ("clip.ogg", ["-c:a", "libopus", "-ar", "48000"]),
        ("clip.mp3", ["-ar", "44100", "-ac", "2"]),
        ("clip.m4a", ["-c:a", "aac", "-ar", "44100"]),
        ("clip.webm", ["-c:a", "libopus", "-ar", "48000", "-ac", "2"]),
    ],
)
def test_every_common_container_becomes_mono_24k_float(speech_wav, tmp_path, name, args):
    path = ffmpeg(speech_wav, tmp_path / name, *args)
    prepared = prepare_reference(path)
    assert prepared.waveform.dtype == np.float32 and prepared.waveform.ndim == 1
    assert 2.0 < prepared.duration_s < 8.0
    assert 0.05 < np.abs(prepared.waveform).max() <= 1.0
    assert not prepared.warnings
    # the same file handed over as bytes (as the browser and the worker do) gives the same audio
    from_bytes = prepare_reference(path.read_bytes())
    assert np.array_equal(from_bytes.waveform, prepared.waveform)


def test_leading_and_trailing_silence_is_trimmed(speech_wav, tmp_path):
    speech = decode_audio(speech_wav)
    silence = np.zeros(3 * SAMPLE_RATE, np.float32)
    padded = tmp_path / "padded.wav"
    sf.write(padded, np.concatenate([silence, speech, silence]), SAMPLE_RATE, subtype="PCM_16")
    prepared = prepare_reference(padded)
    assert prepared.duration_s < len(speech) / SAMPLE_RATE + 0.3
    assert prepared.duration_s > len(speech) / SAMPLE_RATE - 1.0


def test_long_reference_is_cut_at_a_pause_with_a_warning(speech_wav, tmp_path):
    speech = decode_audio(speech_wav)
    pause = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    long_clip = np.concatenate([np.concatenate([speech, pause])] * 12)  # ~50 s
    path = tmp_path / "long.wav"
    sf.write(path, long_clip, SAMPLE_RATE)
    prepared = prepare_reference(path)
    assert MAX_REFERENCE_S - 5.5 <= prepared.duration_s <= MAX_REFERENCE_S
    assert len(prepared.warnings) == 1 and "cut at a pause" in prepared.warnings[0]
    # the cut lands in a pause: the last 20 ms are near silent
    assert np.sqrt(np.mean(prepared.waveform[-480:] ** 2)) < 0.01


def put(path, data: bytes):
    path.write_bytes(data)
    return path


def write(path, samples, rate=SAMPLE_RATE, subtype="FLOAT"):
    sf.write(path, samples, rate, subtype=subtype)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: write(d / "silent.wav", np.zeros(3 * SAMPLE_RATE, np.float32), subtype="PCM_16"), "silent"),
        (lambda d: write(d / "hiss.wav", np.full(3 * SAMPLE_RATE, 1e-5, np.float32)), "silent"),
        (lambda d: write(d / "nan.wav", np.where(np.arange(3 * SAMPLE_RATE) % 100 == 0, np.nan, 0.1)
                         .astype(np.float32)), "NaN"),
        (lambda d: write(d / "inf.wav", np.where(np.arange(3 * SAMPLE_RATE) == 5, np.inf, 0.1)
                         .astype(np.float32)), "NaN or infinite"),
        (lambda d: write(d / "blip.wav", np.concatenate([np.zeros(SAMPLE_RATE), 0.5 * np.sin(
            np.arange(int(0.4 * SAMPLE_RATE)) / 5.0), np.zeros(SAMPLE_RATE)]).astype(np.float32)), "at least 1 s"),
        (lambda d: put(d / "notes.wav", b"this is not audio at all"), "not a supported"),
        (lambda d: put(d / "noise.mp3", np.random.default_rng(0).bytes(20_000)), "not a supported"),
        (lambda d: put(d / "empty.wav", b""), "empty"),
    ],
    ids=["silent", "near-silent", "nan", "inf", "too-short", "text-file", "random-bytes", "empty"],
)
def test_bad_references_are_refused_with_a_reason(tmp_path, make, message):
    with pytest.raises(InvalidAudio, match=message):
        prepare_reference(make(tmp_path))


def test_video_without_audio_track_is_refused(tmp_path):
    video = tmp_path / "video.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=32x32:d=1", "-c:v", "libvpx",
                    str(video)], check=True)
    with pytest.raises(InvalidAudio, match="no audio track"):
        prepare_reference(video)


def test_output_encoders_round_trip():
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    wav = decode_audio(encode_wav(tone))
    assert len(wav) == SAMPLE_RATE and np.abs(wav - tone).max() < 1e-3
    mp3 = decode_audio(encode_mp3(tone))
    assert abs(len(mp3) - SAMPLE_RATE) < 2000 and 0.25 < np.abs(mp3).max() < 0.35


@pytest.fixture(scope="session")
def long_multichannel_flac():
    """3 s of tone, then silence: 4 minutes of 8-channel 192 kHz audio in a ~1 MB FLAC (kept between runs)."""
    from tests.conftest import OUTPUT

    path = OUTPUT / "cache" / "long-8ch-192k.flac"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.flac")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:r=192000:d=3", "-f", "lavfi",
                        "-i", "anullsrc=r=192000:cl=7.1:d=237", "-filter_complex",
                        "[0]pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0[t];[t][1]concat=n=2:v=0:a=1[m]",
                        "-map", "[m]", "-c:a", "flac", "-compression_level", "0", str(partial)], check=True)
        partial.rename(path)
    return path


def test_a_long_file_is_decoded_only_as_far_as_a_reference_can_use(long_multichannel_flac):
    """The cost of a reference is bounded by the audio it can use, not by the file's size: decoding stops
    after READ_S seconds of a 4-minute 8-channel 192 kHz FLAC (~2 MB) instead of running to its end."""
    from inference.audio.reference import READ_S

    info = sf.info(long_multichannel_flac)
    assert info.channels == 8 and info.samplerate == 192_000 and info.duration >= 239
    assert long_multichannel_flac.stat().st_size < 4 * 2**20
    head = decode_audio(long_multichannel_flac, max_seconds=10)
    assert len(head) == 10 * SAMPLE_RATE
    prepared = prepare_reference(long_multichannel_flac)
    assert 2.5 < prepared.duration_s < 4  # the tone at the start
    assert any(f"longer than {READ_S:.0f} s" in w for w in prepared.warnings), prepared.warnings
